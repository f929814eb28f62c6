import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** A baseline server running as its own process. */
export interface ServerProcess {
  port: number
  pid: number
  stop(): Promise<void>
}

/** Starts `bench/servers/<script>` under this Node with `args`; resolves when it prints its port. */
export async function spawnServer(script: string, args: string[]): Promise<ServerProcess> {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url))
  const child = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port))
    child.once('exit', (code) => reject(new Error(`${script} exited (code ${code}) before listening`)))
  })
  return {
    port,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once('exit', () => done())
        child.kill('SIGTERM')
      }),
  }
}
