#!/usr/bin/env node
// Keeps a devnet's processes from outliving it: a `kill -9` of the process that started them
// sends them no signal, so each one watches its own parent instead (on Linux an orphan is
// re-parented: `process.ppid` changes).
//  - Imported (`node --import …/exit-with-parent.mjs script.js`, or `import` from a script): when
//    this process's parent dies, it sends itself SIGTERM (its own shutdown runs) and exits after
//    5 s if that did not end it.
//  - Run (`node …/exit-with-parent.mjs <command> [args…]`): runs a program that cannot watch its
//    parent (anvil) with the same stdio, passes SIGINT/SIGTERM/SIGHUP on, and ends it likewise
//    when this process's parent dies; exits with its status.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const POLL_MS = 500
const GRACE_MS = 5000

/** Calls `onOrphaned` once, when the parent this process started with is gone. */
export function watchParent(onOrphaned) {
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onOrphaned()
  }, POLL_MS)
  timer.unref()
}

function hardExitLater() {
  setTimeout(() => process.exit(1), GRACE_MS).unref()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2)
  if (command === undefined) {
    process.stderr.write('usage: exit-with-parent.mjs <command> [args…]\n')
    process.exit(2)
  }
  const child = spawn(command, args, { stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
  child.on('error', (err) => {
    process.stderr.write(`exit-with-parent: ${err.message}\n`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
  watchParent(() => {
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref()
  })
} else {
  watchParent(() => {
    process.kill(process.pid, 'SIGTERM')
    hardExitLater()
  })
}
