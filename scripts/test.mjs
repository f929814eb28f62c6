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
import { spawn, spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const args = process.argv.slice(2)
const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` }

function ip(...ipArgs) {
  const r = spawnSync('ip', ipArgs, { env, encoding: 'utf8' })
  if (r.error || r.status !== 0) throw new Error(`ip ${ipArgs.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`)
}

/** Creates the namespace (per STACK.md); returns its name, or undefined when it cannot. */
function createNetns() {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by this launcher for the tests it runs, not a turbo task input
  if (process.env.KONBINI_NETNS !== undefined) return undefined
  if (process.getuid?.() !== 0) return note('not root')
  if (spawnSync('ip', ['-V'], { env }).status !== 0) return note('`ip` (iproute2) not found')
  const ns = `konbini-test-${process.pid}`
  try {
    ip('netns', 'add', ns)
  } catch (err) {
    return note(err.message)
  }
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    ip('-n', ns, 'link', 'add', 'd0', 'type', 'ifb')
    ip('-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', 'd0')
    ip('-n', ns, 'link', 'set', 'd0', 'up')
    ip('-n', ns, 'route', 'add', 'default', 'dev', 'd0')
    return ns
  } catch (err) {
    deleteNetns(ns)
    return note(err.message)
  }
}

function note(why) {
  process.stderr.write(`konbini test: no network namespace (${why}); running Vitest directly — WebRTC tests will be skipped (they fail under CI)\n`)
  return undefined
}

function deleteNetns(ns) {
  spawnSync('ip', ['netns', 'delete', ns], { env, stdio: 'ignore' })
}

/** Pids of the processes still inside the namespace: all started by this run. */
function netnsPids(ns) {
  const r = spawnSync('ip', ['netns', 'pids', ns], { env, encoding: 'utf8' })
  return (r.stdout ?? '').split('\n').filter(Boolean).map(Number)
}

/**
 * Ends what this run left in the namespace (SIGTERM, then SIGKILL after 3 s): a Vitest stopped
 * by a signal kills its workers, not the relays and browsers they started.
 */
async function endLeftovers(ns) {
  const signal = (pids, sig) => {
    for (const pid of pids)
      try {
        process.kill(pid, sig)
      } catch {}
  }
  let pids = netnsPids(ns)
  if (pids.length === 0) return
  process.stderr.write(`konbini test: ending ${pids.length} process(es) left in ${ns}\n`)
  signal(pids, 'SIGTERM')
  for (let waited = 0; waited < 3000 && pids.length > 0; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    pids = netnsPids(ns)
  }
  signal(pids, 'SIGKILL')
}

const ns = createNetns()
const command = ns ? 'ip' : process.execPath
const commandArgs = ns ? ['netns', 'exec', ns, 'env', `KONBINI_NETNS=${ns}`, process.execPath, vitest, 'run', ...args] : [vitest, 'run', ...args]
const child = spawn(command, commandArgs, { stdio: 'inherit', env })
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
child.on('error', (err) => {
  process.stderr.write(`konbini test: could not start Vitest: ${err.message}\n`)
  if (ns) deleteNetns(ns)
  process.exit(1)
})
child.on('exit', async (code, signal) => {
  if (ns) {
    await endLeftovers(ns)
    deleteNetns(ns)
  }
  process.exit(code ?? (signal ? 1 : 0))
})
