import { spawn } from 'node:child_process'
import { log } from './harness.ts'

interface NetnsModule {
  createNetns(init: { prefix: string; onSkip: (why: string) => undefined }): string | undefined
  deleteNetns(ns: string): void
  endLeftovers(ns: string, label: string): Promise<void>
  inNetns(ns: string, command: string, args: string[]): { command: string; args: string[] }
  netnsEnv: NodeJS.ProcessEnv
}

/**
 * Runs this bench process again inside a fresh network namespace (scripts/netns.mjs, as `npm test`
 * does) and resolves with true once it has ended, its exit code set on `process.exitCode`.
 * Resolves false when already inside one (KONBINI_NETNS set) or when none can be made (not root,
 * no `ip`): then the browser benches fail with a sentence saying why.
 */
export async function runInNetns(): Promise<boolean> {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by the launcher, not a turbo task input
  if (process.env.KONBINI_NETNS !== undefined) return false
  const modulePath = '../scripts/netns.mjs'
  const netns = (await import(modulePath)) as NetnsModule
  const ns = netns.createNetns({
    prefix: 'konbini-bench',
    onSkip: (why) => {
      log(`konbini bench: no network namespace (${why}); browser benches cannot run`)
      return undefined
    },
  })
  if (ns === undefined) return false
  const { command, args } = netns.inNetns(ns, process.execPath, [...process.execArgv, ...process.argv.slice(1)])
  const child = spawn(command, args, { stdio: 'inherit', env: netns.netnsEnv })
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward)
  const code = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      log(`konbini bench: could not start the bench in ${ns}: ${err.message}`)
      resolve(1)
    })
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)))
  })
  await netns.endLeftovers(ns, 'konbini bench')
  netns.deleteNetns(ns)
  process.exitCode = code
  return true
}
