import { type ChildProcess, spawn } from 'node:child_process'
import { EXIT_WITH_PARENT } from './exit-with-parent.ts'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const relayMain = fileURLToPath(new URL('../main.ts', import.meta.url))

/** What a relay prints on its ready line. */
export interface RelayReady {
  pid: number
  httpUrl: string
  peerId?: string
  multiaddrs?: string[]
  metaAddress?: string
}

/**
 * One relay child process that can be killed and started again with the same settings
 * (same data dir; its ports are pinned after the first start so addresses survive a restart).
 */
export class RelayProcess {
  readonly name: string
  env: Record<string, string>
  child: ChildProcess | undefined
  ready: RelayReady | undefined
  /** A command the relay runs under (e.g. `strace -f -o …` in a durability test). */
  wrapper: string[] = []
  private readonly log: (line: string) => void

  constructor(name: string, env: Record<string, string>, log: (line: string) => void) {
    this.name = name
    this.env = env
    this.log = log
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Starts the process and resolves with its ready line; rejects if it exits first. */
  async start(): Promise<RelayReady> {
    // the relay ends itself when the process that started it dies, even by kill -9
    const argv = [...this.wrapper, process.execPath, '--import', EXIT_WITH_PARENT, relayMain]
    // block writes fsync in parallel on libuv's pool: give it room
    const child = spawn(argv[0] as string, argv.slice(1), { env: { UV_THREADPOOL_SIZE: '16', ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    child.stderr?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (/"level":(40|50|60)/.test(line) || line.startsWith('konbini relay')) this.log(`[${this.name}] ${line}`)
    })
    this.ready = await new Promise<RelayReady>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
      lines.on('line', (line) => {
        try {
          const parsed = JSON.parse(line) as RelayReady & { ready?: boolean }
          if (parsed.ready) resolve(parsed)
        } catch {}
      })
      child.once('exit', (code) => reject(new Error(`${this.name} exited (code ${code}) before it was ready`)))
    })
    this.pinPorts(this.ready)
    return this.ready
  }

  /** Sends a signal and resolves when the process has exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === undefined || !this.running) return Promise.resolve()
    return new Promise((done) => {
      child.once('exit', () => done())
      child.kill(signal)
      if (signal !== 'SIGKILL') setTimeout(() => child.kill('SIGKILL'), 5000).unref()
    })
  }

  private pinPorts(ready: RelayReady): void {
    const port = (url: string) => new URL(url).port
    this.env.KONBINI_HTTP_PORT = port(ready.httpUrl)
    for (const addr of ready.multiaddrs ?? []) {
      const match = /\/tcp\/(\d+)(\/ws)?/.exec(addr)
      if (match) this.env[match[2] ? 'KONBINI_WS_PORT' : 'KONBINI_P2P_PORT'] = match[1] as string
    }
  }
}
