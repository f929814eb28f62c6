// A network namespace of our own for WebRTC in Chromium (STACK.md), shared by `npm test`
// (scripts/test.mjs) and `npm run bench` (bench/run.ts):
//  - WebRTC finds a non-loopback interface with a default route: ICE gathers no candidates on
//    loopback alone, and
//  - no packet can leave the machine: the namespace has `lo` and an `ifb` device (10.99.0.1/24, the
//    default route), which silently drops whatever is routed to it.
// Needs root and `ip` (iproute2). Whoever runs inside sets KONBINI_NETNS to the namespace's name.
import { spawnSync } from 'node:child_process'

/** The environment for `ip`: PATH with the sbin folders. */
export const netnsEnv = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` }

function ip(...ipArgs) {
  const r = spawnSync('ip', ipArgs, { env: netnsEnv, encoding: 'utf8' })
  if (r.error || r.status !== 0) throw new Error(`ip ${ipArgs.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`)
}

/**
 * Creates the namespace `<prefix>-<pid>`; returns its name, or undefined when it cannot (then
 * `onSkip(why)` is called). Returns undefined without a note when already inside one (KONBINI_NETNS set).
 */
export function createNetns({ prefix, onSkip }) {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by this launcher for what it runs, not a turbo task input
  if (process.env.KONBINI_NETNS !== undefined) return undefined
  if (process.getuid?.() !== 0) return onSkip('not root')
  if (spawnSync('ip', ['-V'], { env: netnsEnv }).status !== 0) return onSkip('`ip` (iproute2) not found')
  const ns = `${prefix}-${process.pid}`
  try {
    ip('netns', 'add', ns)
  } catch (err) {
    return onSkip(err.message)
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
    return onSkip(err.message)
  }
}

/** Deletes the namespace (what still runs inside keeps running, cut off). */
export function deleteNetns(ns) {
  spawnSync('ip', ['netns', 'delete', ns], { env: netnsEnv, stdio: 'ignore' })
}

/** Pids of the processes still inside the namespace. */
function netnsPids(ns) {
  const r = spawnSync('ip', ['netns', 'pids', ns], { env: netnsEnv, encoding: 'utf8' })
  return (r.stdout ?? '').split('\n').filter(Boolean).map(Number)
}

/**
 * Ends what a run left in the namespace (SIGTERM, then SIGKILL after 3 s): a runner stopped by a
 * signal kills its workers, not the relays and browsers they started. Every process in the
 * namespace was started by this run. `label` prefixes the note on stderr.
 */
export async function endLeftovers(ns, label) {
  const signal = (pids, sig) => {
    for (const pid of pids)
      try {
        process.kill(pid, sig)
      } catch {}
  }
  let pids = netnsPids(ns)
  if (pids.length === 0) return
  process.stderr.write(`${label}: ending ${pids.length} process(es) left in ${ns}\n`)
  signal(pids, 'SIGTERM')
  for (let waited = 0; waited < 3000 && pids.length > 0; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    pids = netnsPids(ns)
  }
  signal(pids, 'SIGKILL')
}

/** `ip netns exec NS env KONBINI_NETNS=NS command …args`: the command and arguments to spawn. */
export function inNetns(ns, command, args) {
  return { command: 'ip', args: ['netns', 'exec', ns, 'env', `KONBINI_NETNS=${ns}`, command, ...args] }
}
