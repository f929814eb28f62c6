import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from '../apps/relay/src/free-port.ts'
import { log } from './harness.ts'

const webDir = fileURLToPath(new URL('../apps/web/', import.meta.url))
const nextBin = fileURLToPath(new URL('../node_modules/next/dist/bin/next', import.meta.url))
/**
 * The bench portal's Next build folder (relative to apps/web). `.next-test` is gitignored and
 * already in apps/web/tsconfig.json's `include`, so `next build` leaves that file as it is (a new
 * folder name would be added there); a build keeps `.next-test/dev`, where the portal e2e's
 * `next dev` writes, so both can run.
 */
export const PORTAL_DIST_DIR = '.next-test'

const nextEnv = { NEXT_TELEMETRY_DISABLED: '1', KONBINI_NEXT_DIST_DIR: PORTAL_DIST_DIR }

let building: Promise<number> | undefined

/**
 * `next build` of the portal, once per bench process (later calls share the first); resolves with
 * the milliseconds it took, rejects with the end of Next's output when it fails.
 */
export function buildPortal(): Promise<number> {
  building ??= new Promise<number>((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [nextBin, 'build'], { cwd: webDir, env: { ...process.env, ...nextEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
    const output: string[] = []
    const keep = (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean))
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(performance.now() - started)
      else reject(new Error(`next build failed (${code ?? signal}):\n${output.slice(-30).join('\n')}`))
    })
  })
  return building
}

export interface Portal {
  /** `http://127.0.0.1:<port>` (Chromium here resolves nothing but 127.0.0.1). */
  url: string
  stop(): Promise<void>
}

/**
 * `next start` of the bench build on a free 127.0.0.1 port, pointed at a devnet (its meta URLs and
 * `devnet.json`: relays, trusted metas, the dev key); resolves once `/files` answers 200.
 */
export async function startPortal(init: { metaUrls: string[]; devnetFile: string }): Promise<Portal> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  // its own process group, so stop ends whatever Next forks
  const child = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: webDir,
    env: { ...process.env, ...nextEnv, KONBINI_META_URL: init.metaUrls.join(','), KONBINI_DEVNET_FILE: init.devnetFile },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  })
  const stderr: string[] = []
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString().trimEnd()))
  const portal = { url, stop: () => stopGroup(child) }
  try {
    await waitForPage(`${url}/files`, child, 60_000)
  } catch (err) {
    await portal.stop()
    throw new Error(`${(err as Error).message}\n${stderr.slice(-20).join('\n')}`)
  }
  log(`  portal: next start on ${url}`)
  return portal
}

async function waitForPage(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  let last = 'no answer'
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`next start exited (${child.exitCode ?? child.signalCode})`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
      await res.arrayBuffer()
      if (res.ok) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${url} did not answer 200 in ${timeoutMs} ms (${last})`)
}

/** SIGTERM to the process group `child` leads, SIGKILL after 5 s; resolves when none is left. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid
  const signal = (s: NodeJS.Signals | 0) => {
    try {
      if (pgid !== undefined) process.kill(-pgid, s)
      return pgid !== undefined
    } catch {
      return false
    }
  }
  if (!signal('SIGTERM')) return
  for (let waited = 0; signal(0); waited += 100) {
    if (waited === 5000) signal('SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
