#!/usr/bin/env node
// `npm test`: runs Vitest inside a fresh network namespace of its own, so that
//  - WebRTC (Chromium tabs) finds a non-loopback interface with a default route: ICE gathers no
//    candidates on loopback alone (STACK.md), and
//  - no test packet can leave the machine: the namespace has `lo` and an `ifb` device (10.99.0.1/24,
//    the default route), which silently drops whatever is routed to it.
// Needs root and `ip` (iproute2). Inside, KONBINI_NETNS names the namespace; tests that need WebRTC
// check it (`webrtcAvailable()` in apps/web/e2e/harness). Without root/`ip`, or when already inside
// (KONBINI_NETNS set), Vitest runs directly and KONBINI_NETNS stays unset.
// Usage: node apps/relay/bin/node24.mjs scripts/test.mjs [vitest args…]
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNetns, deleteNetns, endLeftovers, inNetns, netnsEnv } from './netns.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const args = process.argv.slice(2)
const env = netnsEnv

function note(why) {
  process.stderr.write(`konbini test: no network namespace (${why}); running Vitest directly — WebRTC tests will be skipped (they fail under CI)\n`)
  return undefined
}

const ns = createNetns({ prefix: 'konbini-test', onSkip: note })
const { command, args: commandArgs } = ns
  ? inNetns(ns, process.execPath, [vitest, 'run', ...args])
  : { command: process.execPath, args: [vitest, 'run', ...args] }
const child = spawn(command, commandArgs, { stdio: 'inherit', env })
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
child.on('error', (err) => {
  process.stderr.write(`konbini test: could not start Vitest: ${err.message}\n`)
  if (ns) deleteNetns(ns)
  process.exit(1)
})
child.on('exit', async (code, signal) => {
  if (ns) {
    await endLeftovers(ns, 'konbini test')
    deleteNetns(ns)
  }
  process.exit(code ?? (signal ? 1 : 0))
})
