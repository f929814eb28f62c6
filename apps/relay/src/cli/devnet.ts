import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generatePrivateKey } from 'viem/accounts'
import type { DevnetFile } from './context.ts'

const relayMain = fileURLToPath(new URL('../main.ts', import.meta.url))
const webDir = fileURLToPath(new URL('../../../web', import.meta.url))

export interface DevnetOptions {
  dataDir: string
  resources: number
  web: boolean
  basePort: number
  /** Extra environment for every resource node (e.g. an egress cap). */
  resourceEnv?: Record<string, string>
  /** Extra environment for the meta node (e.g. KONBINI_DATABASE_URL). */
  metaEnv?: Record<string, string>
  log?: (line: string) => void
}

interface Ready {
  pid: number
  httpUrl: string
  peerId?: string
  multiaddrs?: string[]
  metaAddress?: string
}

/** Starts a relay process and resolves with its ready line; rejects if it exits first. */
function startRelay(env: Record<string, string>, name: string, children: ChildProcess[], log: (l: string) => void): Promise<Ready> {
  const child = spawn(process.execPath, [relayMain], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  child.stderr?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.includes('"level":50') || line.startsWith('konbini relay')) log(`[${name}] ${line}`)
  })
  return new Promise((resolveReady, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Ready & { ready?: boolean }
        if (parsed.ready) resolveReady(parsed)
      } catch {}
    })
    child.once('exit', (code) => reject(new Error(`${name} exited (code ${code}) before it was ready`)))
  })
}

async function devKey(dataDir: string): Promise<string> {
  const file = join(dataDir, 'dev.key')
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim()
  const key = generatePrivateKey()
  await writeFile(file, `${key}\n`, { mode: 0o600 })
  return key
}

/**
 * Starts a local network: one meta node, N resource nodes (each its own process), and the portal.
 * Writes `<dataDir>/devnet.json`; returns a stop function that ends every process.
 */
export async function startDevnet(options: DevnetOptions): Promise<{ file: DevnetFile; stop: () => Promise<void> }> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`))
  const dataDir = resolve(options.dataDir)
  await mkdir(dataDir, { recursive: true })
  const children: ChildProcess[] = []
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((done) => {
            if (c.exitCode !== null || c.signalCode !== null) return done()
            c.once('exit', () => done())
            c.kill('SIGTERM')
            setTimeout(() => c.kill('SIGKILL'), 5000).unref()
          }),
      ),
    )
  }
  try {
    // basePort 0: every listener on an ephemeral port (tests)
    const port = (offset: number) => String(options.basePort === 0 ? 0 : options.basePort + offset)
    const common = { KONBINI_HOST: '127.0.0.1', KONBINI_LOG_LEVEL: 'warn' }
    const meta = await startRelay(
      { ...common, KONBINI_ROLES: 'meta', KONBINI_DATA_DIR: join(dataDir, 'meta'), KONBINI_HTTP_PORT: port(0), ...options.metaEnv },
      'meta',
      children,
      log,
    )
    const resources = await Promise.all(
      Array.from({ length: options.resources }, (_, i) =>
        startRelay(
          {
            ...common,
            KONBINI_ROLES: 'resource',
            KONBINI_DATA_DIR: join(dataDir, `node${i + 1}`),
            KONBINI_HTTP_PORT: port(31 + i),
            KONBINI_P2P_PORT: port(131 + i),
            KONBINI_WS_PORT: port(231 + i),
            KONBINI_META_URLS: meta.httpUrl,
            KONBINI_TRUSTED_METAS: meta.metaAddress ?? '',
            ...options.resourceEnv,
          },
          `node${i + 1}`,
          children,
          log,
        ),
      ),
    )
    let webUrl: string | undefined
    const file: DevnetFile = {
      metaUrls: [meta.httpUrl],
      devKey: await devKey(dataDir),
      chainId: 31337,
      nodes: resources.map((r) => ({ peerId: r.peerId ?? '', multiaddrs: r.multiaddrs ?? [], httpUrl: r.httpUrl, pid: r.pid })),
    }
    const devnetPath = join(dataDir, 'devnet.json')
    if (options.web) {
      webUrl = 'http://localhost:3000'
      const next = join(dirname(require_resolve_next(webDir)), '..', 'bin', 'next')
      const web = spawn(process.execPath, [next, 'dev', '-p', '3000', '-H', '127.0.0.1'], {
        cwd: webDir,
        env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', KONBINI_META_URL: meta.httpUrl, KONBINI_DEVNET_FILE: devnetPath },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      children.push(web)
      web.stderr?.on('data', (d: Buffer) => log(`[web] ${d.toString().trimEnd()}`))
    }
    const written = { ...file, ...(webUrl && { webUrl }), metaAddress: meta.metaAddress, metaPid: meta.pid }
    await writeFile(devnetPath, `${JSON.stringify(written, null, 2)}\n`)
    return { file: written, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

function require_resolve_next(from: string): string {
  const candidates = [
    join(from, 'node_modules', 'next', 'dist', 'server', 'next.js'),
    join(from, '..', '..', 'node_modules', 'next', 'dist', 'server', 'next.js'),
  ]
  const found = candidates.find((c) => existsSync(c))
  if (!found) throw new Error('Next.js is not installed; run npm install first.')
  return found
}
