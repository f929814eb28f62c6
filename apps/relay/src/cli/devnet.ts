import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { EXIT_WITH_PARENT } from './exit-with-parent.ts'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEVNET_CHAIN_ID } from '@konbini/protocol'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { DevnetFile } from './context.ts'
import { type DevnetChain, startDevnetChain } from './devnet-chain.ts'
import { RelayProcess } from './relay-process.ts'
import { freePort } from '../free-port.ts'
import { loadOperatorKey, loadPeerKey } from '../keys.ts'

const webDir = fileURLToPath(new URL('../../../web', import.meta.url))

export interface DevnetOptions {
  dataDir: string
  resources: number
  web: boolean
  /** The portal's port (default 3000, or a free ephemeral port when `basePort` is 0). */
  webPort?: number
  /** The portal's Next build folder, relative to apps/web (default `.next`): tests use their own. */
  webDistDir?: string
  /** First port (meta HTTP); others are offsets from it. 0: every listener on an ephemeral port. */
  basePort: number
  /** Extra environment for every resource node (e.g. an egress cap). */
  resourceEnv?: Record<string, string>
  /** Extra environment for the meta nodes (e.g. KONBINI_DATABASE_URL). */
  metaEnv?: Record<string, string>
  /** Extra environment for resource node i (0-based), e.g. one node's egress cap. */
  nodeEnv?: (index: number) => Record<string, string>
  /** Meta processes (default 1); more than one needs a shared KONBINI_DATABASE_URL in metaEnv. */
  metas?: number
  /**
   * Start the chain too: anvil with the contracts deployed, the meta nodes whitelisted, every
   * resource node registered with the minimum stake, the dev account holding the supply
   * (`npm start` does; tests that need it ask).
   */
  chain?: boolean
  /** Meta signatures an epoch report needs on chain (default 1). */
  quorum?: number
  /** Tokens the settlement emits per epoch (default `DEPLOY_DEFAULTS.emissionPerEpoch`). */
  emissionPerEpoch?: bigint
  /** The operator key resource node i runs under (default: one of its own, made at first start); tests give several nodes one operator. */
  operatorKey?: (index: number) => Hex | undefined
  /** A command resource node i runs under (tests: strace). */
  nodeWrapper?: (index: number) => string[] | undefined
  log?: (line: string) => void
}

async function devKey(dataDir: string): Promise<string> {
  const file = join(dataDir, 'dev.key')
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim()
  const key = generatePrivateKey()
  await writeFile(file, `${key}\n`, { mode: 0o600 })
  return key
}

export interface Devnet {
  file: DevnetFile
  metas: RelayProcess[]
  nodes: RelayProcess[]
  /** The portal (`next dev`, leader of its own process group), when started with `web`. */
  web?: ChildProcess
  /** The chain, when started with `chain`. */
  chain?: DevnetChain
  /** Rewrites devnet.json (after a restart changed a pid). */
  save(): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts a local network: meta node(s), N resource nodes (each its own process), and the portal.
 * Writes `<dataDir>/devnet.json`; `stop` ends every process.
 */
export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`))
  const dataDir = resolve(options.dataDir)
  await mkdir(dataDir, { recursive: true })
  // basePort 0: every listener on an ephemeral port (tests)
  const port = (offset: number) => String(options.basePort === 0 ? 0 : options.basePort + offset)
  const common = { KONBINI_HOST: '127.0.0.1', KONBINI_LOG_LEVEL: 'warn' }
  const key = await devKey(dataDir)
  const metas = Array.from(
    { length: options.metas ?? 1 },
    (_, i) =>
      new RelayProcess(
        `meta${i === 0 ? '' : i + 1}`,
        {
          ...common,
          KONBINI_ROLES: 'meta',
          KONBINI_DATA_DIR: join(dataDir, i === 0 ? 'meta' : `meta${i + 1}`),
          KONBINI_HTTP_PORT: port(i),
          // the dev key may change the light peers' denylist
          KONBINI_ADMINS: privateKeyToAccount(key as `0x${string}`).address,
          // a devnet's rewards show a minute or two after the traffic (a deployment's tickets last 5 minutes)
          KONBINI_TICKET_SECONDS: '60',
          ...options.metaEnv,
        },
        log,
      ),
  )
  const nodes: RelayProcess[] = []
  let web: ChildProcess | undefined
  let chain: DevnetChain | undefined
  const stop = async () => {
    await Promise.all([...(web ? [stopGroup(web)] : []), ...[...metas, ...nodes].map((p) => p.kill('SIGTERM'))])
    await chain?.stop()
  }
  try {
    if (options.chain) {
      // the meta keys first (each meta process loads its own at start): the chain whitelists them
      const metaKeys = await Promise.all(metas.map((m) => loadOperatorKey(m.env.KONBINI_DATA_DIR as string, 'meta.key')))
      chain = await startDevnetChain({
        // 8545 for `npm start` (basePort 7070), like every local EVM node
        port: Number(port(1475)),
        chainId: DEVNET_CHAIN_ID,
        devAccount: privateKeyToAccount(key as `0x${string}`),
        metas: metaKeys.map((k) => k.address),
        ...(options.quorum !== undefined && { quorum: options.quorum }),
        ...(options.emissionPerEpoch !== undefined && { emissionPerEpoch: options.emissionPerEpoch }),
        // the chain outlives the devnet's processes, as the meta node's index and the blocks do
        stateDir: join(dataDir, 'chain'),
      })
      log(`chain: anvil at ${chain.anvil.rpcUrl}, ${chain.resumed ? 'resumed from its saved state' : 'contracts deployed'}`)
      for (const [i, m] of metas.entries()) {
        m.env.KONBINI_CHAIN_RPC_URL = chain.anvil.rpcUrl
        m.env.KONBINI_CHAIN_CONTRACTS = JSON.stringify(chain.contracts)
        // the first closes epochs and submits reports; the others co-sign them
        m.env.KONBINI_EPOCH_AGGREGATOR = i === 0 ? 'true' : 'false'
      }
    }
    const metaReady = await Promise.all(metas.map((m) => m.start()))
    const metaUrls = metaReady.map((m) => m.httpUrl)
    for (let i = 0; i < options.resources; i++) {
      nodes.push(
        new RelayProcess(
          `node${i + 1}`,
          {
            ...common,
            KONBINI_ROLES: 'resource',
            KONBINI_DATA_DIR: join(dataDir, `node${i + 1}`),
            KONBINI_HTTP_PORT: port(31 + i),
            KONBINI_P2P_PORT: port(131 + i),
            KONBINI_WS_PORT: port(231 + i),
            KONBINI_META_URLS: metaUrls.join(','),
            KONBINI_TRUSTED_METAS: metaReady.map((m) => m.metaAddress ?? '').join(','),
            ...(chain && { KONBINI_CHAIN_RPC_URL: chain.anvil.rpcUrl, KONBINI_CHAIN_CONTRACTS: JSON.stringify(chain.contracts) }),
            ...options.resourceEnv,
            ...options.nodeEnv?.(i),
          },
          log,
        ),
      )
    }
    nodes.forEach((n, i) => {
      n.wrapper = options.nodeWrapper?.(i) ?? []
    })
    for (let i = 0; i < nodes.length; i++) {
      const operator = options.operatorKey?.(i)
      if (operator === undefined) continue
      const nodeDir = join(dataDir, `node${i + 1}`)
      await mkdir(nodeDir, { recursive: true })
      await writeFile(join(nodeDir, 'operator.key'), `${operator}\n`, { mode: 0o600 })
    }
    await Promise.all(nodes.map((n) => n.start()))
    if (chain) {
      // the keys each node loaded at start (created here first if it had none)
      for (let i = 0; i < nodes.length; i++) {
        const nodeDir = join(dataDir, `node${i + 1}`)
        await chain.registerNode(await loadOperatorKey(nodeDir), await loadPeerKey(nodeDir))
      }
      // a node is placeable once staked: the meta takes it at its next heartbeat
      await untilLive(
        metaUrls[0] as string,
        nodes.map((n) => n.ready?.peerId ?? ''),
      )
    }
    const devnetPath = join(dataDir, 'devnet.json')
    const file: DevnetFile = {
      metaUrls,
      metaAddresses: metaReady.map((m) => m.metaAddress ?? ''),
      devKey: key,
      chainId: DEVNET_CHAIN_ID,
      nodes: [],
      ...(chain && { chain: { rpcUrl: chain.anvil.rpcUrl, chainId: DEVNET_CHAIN_ID, contracts: chain.contracts } }),
    }
    if (options.web) {
      const webPort = options.webPort ?? (options.basePort === 0 ? await freePort() : 3000)
      file.webUrl = `http://localhost:${webPort}`
      const next = join(dirname(resolveNext(webDir)), '..', 'bin', 'next')
      // its own process group: `next dev` forks a server that forks workers; stop ends them all
      web = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, next, 'dev', '-p', String(webPort), '-H', '127.0.0.1'], {
        cwd: webDir,
        env: {
          ...process.env,
          NEXT_TELEMETRY_DISABLED: '1',
          KONBINI_META_URL: metaUrls.join(','),
          KONBINI_DEVNET_FILE: devnetPath,
          ...(options.webDistDir !== undefined && { KONBINI_NEXT_DIST_DIR: options.webDistDir }),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      })
      web.stderr?.on('data', (d: Buffer) => log(`[web] ${d.toString().trimEnd()}`))
    }
    const save = async () => {
      file.nodes = nodes.map((n) => ({
        peerId: n.ready?.peerId ?? '',
        multiaddrs: n.ready?.multiaddrs ?? [],
        httpUrl: n.ready?.httpUrl ?? '',
        pid: n.ready?.pid ?? 0,
      }))
      // it carries the dev key (the meta admin's): readable by its owner only, also when it existed before
      await writeFile(devnetPath, `${JSON.stringify({ ...file, metaPids: metas.map((m) => m.ready?.pid) }, null, 2)}\n`, { mode: 0o600 })
      await chmod(devnetPath, 0o600)
    }
    await save()
    return { file, metas, nodes, ...(web && { web }), ...(chain && { chain }), save, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Sends `signal` to process group `pgid`; false when no process is left in it. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** SIGTERM to the process group `child` leads; SIGKILL to what is left after 5 s. Resolves when none is left. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid
  if (pgid === undefined || !signalGroup(pgid, 'SIGTERM')) return
  for (let waited = 0; signalGroup(pgid, 0); waited += 100) {
    if (waited === 5000) signalGroup(pgid, 'SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function resolveNext(from: string): string {
  const candidates = [
    join(from, 'node_modules', 'next', 'dist', 'server', 'next.js'),
    join(from, '..', '..', 'node_modules', 'next', 'dist', 'server', 'next.js'),
  ]
  const found = candidates.find((c) => existsSync(c))
  if (!found) throw new Error('Next.js is not installed; run npm install first.')
  return found
}

/** Waits until the meta node at `metaUrl` lists every one of `peerIds` as live (at most 30 s). */
async function untilLive(metaUrl: string, peerIds: string[]): Promise<void> {
  const deadline = performance.now() + 30_000
  for (;;) {
    const listed = await fetch(new URL('/v1/nodes', metaUrl))
      .then(async (res) => ((await res.json()) as { nodes: Array<{ peerId: string; live: boolean }> }).nodes)
      .catch(() => [])
    const live = new Set(listed.filter((n) => n.live).map((n) => n.peerId))
    if (peerIds.every((id) => live.has(id))) return
    if (performance.now() > deadline) throw new Error(`the meta node lists ${live.size} of ${peerIds.length} nodes live after 30 s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
