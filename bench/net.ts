import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createKonbiniClient, type KonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import type { Libp2p } from '@libp2p/interface'
import type { ImportCandidate } from 'ipfs-unixfs-importer'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { type Devnet, type DevnetOptions, startDevnet } from '../apps/relay/src/cli/devnet.ts'
import { untilGatewayServes } from '../apps/relay/test/public-gateway.ts'
import { log, MiB, tempDir } from './harness.ts'

/** A devnet of real relay processes on 127.0.0.1 (ephemeral ports) in a temp folder. */
export interface BenchNet {
  devnet: Devnet
  /** A work folder for the benchmark's own files; removed by `stop`. */
  dir: string
  metaUrls: string[]
  /** A fresh client: new libp2p node (TCP), same user key. The caller stops `libp2p`. */
  client(): Promise<{ client: KonbiniClient; libp2p: Libp2p }>
  /** Uploads a file from disk with a short-lived client; returns the root and its holders. */
  putFile(path: string, replicas?: number): Promise<{ root: string; holders: string[] }>
  /** Uploads `size` fresh random bytes (generated as they are sent, never on disk) named `name`. */
  putRandom(name: string, size: number, replicas?: number): Promise<{ root: string; holders: string[] }>
  /** Resolves when no resource node reports a transfer in progress (bounded: 5 s), so leftovers of one run do not slow the next. */
  idle(): Promise<void>
  /** Ends every process and deletes the folder. */
  stop(): Promise<void>
}

const running = new Set<BenchNet>()

/** Stops every bench network still running (on Ctrl-C), so no process or temp folder is left behind. */
export async function stopAllNets(): Promise<void> {
  await Promise.allSettled([...running].map((n) => n.stop()))
}

/** Starts 1 meta + `resources` resource nodes (each its own process). */
export async function startBenchNet(options: Partial<DevnetOptions> & { resources: number }): Promise<BenchNet> {
  const { dir, cleanup } = await tempDir('net')
  const started = performance.now()
  // BENCH_CPU_PROF_DIR=…: every relay process writes a V8 CPU profile there when it exits
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: the bench is not a turbo task
  const profDir = process.env.BENCH_CPU_PROF_DIR
  const nodeEnv = (i: number) => ({
    ...options.nodeEnv?.(i),
    ...(profDir && { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(profDir, `node${i + 1}`)}` }),
  })
  // baselines fetched through the public gateway must not be slowed by its rate limit
  const resourceEnv = { KONBINI_PUBLIC_BPS: '0', ...options.resourceEnv }
  const devnet = await startDevnet({ dataDir: join(dir, 'data'), web: false, basePort: 0, log: (l) => log(`  ${l}`), ...options, resourceEnv, nodeEnv }).catch(
    async (err) => {
      await cleanup()
      throw err
    },
  )
  log(`  devnet: 1 meta + ${options.resources} resource nodes up in ${Math.round(performance.now() - started)} ms`)
  const account = privateKeyToAccount(generatePrivateKey())
  const metaUrls = devnet.file.metaUrls
  const client = async () => {
    const libp2p = await createNodeClientLibp2p()
    return { client: createKonbiniClient({ metaUrls, account, libp2p }), libp2p }
  }
  const put = async (candidates: Iterable<ImportCandidate> | AsyncIterable<ImportCandidate>, name: string, size: number, replicas?: number) => {
    const { client: c, libp2p } = await client()
    try {
      // public, so the gateway baselines can read the same bytes; holders learn it at their next heartbeat
      const r = await c.put(candidates, { name, size, public: true, ...(replicas !== undefined && { replicas }) })
      await untilHoldersServe(devnet, r.root, r.holders)
      return { root: r.root, holders: r.holders }
    } finally {
      await libp2p.stop()
    }
  }
  const net: BenchNet = {
    devnet,
    dir,
    metaUrls,
    client,
    async putFile(path, replicas) {
      const source = await fsSource(path)
      return put(source.candidates(), source.name, source.size, replicas)
    },
    putRandom(name, size, replicas) {
      return put([{ path: name, content: randomContent(size) }], name, size, replicas)
    },
    async idle() {
      const deadline = performance.now() + 5000
      for (const node of devnet.nodes) {
        const url = node.ready?.httpUrl
        while (url && performance.now() < deadline) {
          const text = await fetch(`${url}/metrics`).then(
            (r) => r.text(),
            () => '',
          )
          if (!/^konbini_active_transfers [1-9]/m.test(text)) break
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    },
    async stop() {
      running.delete(net)
      await devnet.stop()
      await cleanup()
    },
  }
  running.add(net)
  return net
}

async function* randomContent(size: number): AsyncGenerator<Uint8Array> {
  for (let left = size; left > 0; left -= MiB) yield randomBytes(Math.min(left, MiB))
}

/** Resolves once the meta node lists `peerId` live with a heartbeat newer than `since` (unix s) that satisfies `check`. */
export async function waitForNode(
  client: KonbiniClient,
  peerId: string,
  since: number,
  check: (n: { egressCapBps: number }) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const node = (await client.nodes()).find((n) => n.peerId === peerId)
    if (node?.live && node.lastSeen >= since && check(node)) return
    if (performance.now() > deadline) throw new Error(`node ${peerId} did not come back live within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Waits until every holder's gateway serves a public root (holders learn it is public at their next heartbeat). */
export async function untilHoldersServe(devnet: Devnet, root: string, holders: readonly string[]): Promise<void> {
  for (const node of devnet.file.nodes) if (holders.includes(node.peerId)) await untilGatewayServes(`${node.httpUrl}/ipfs/${root}`)
}
