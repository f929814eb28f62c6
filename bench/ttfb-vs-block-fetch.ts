import { createHash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { type Bench, MiB, alternate, log, median, round } from './harness.ts'
import { httpGetBytes } from './http-client.ts'
import { type BenchNet, startBenchNet } from './net.ts'

const BIG = 1024 * MiB
const SMALL = 16 * MiB
const RUNS = 15

/** Milliseconds of each step of one cold start, up to the first verified chunk. */
interface ColdStart {
  total: number
  libp2p: number
  open: number
  firstChunk: number
  provider: string
}

/** A cold client: new libp2p node, meta lookup (`open`), then the first chunk of `entry.content()`. */
async function coldStart(net: BenchNet, root: string): Promise<ColdStart> {
  const t0 = performance.now()
  let provider = ''
  const { client, libp2p } = await net.client()
  const t1 = performance.now()
  try {
    const download = await client.open(root, { onBlock: (_, p) => (provider ||= p) })
    const t2 = performance.now()
    if (download.entry.type !== 'file') throw new Error(`${root} is not a file`)
    const content = download.entry.content({ blockReadConcurrency: download.readAhead })
    const first = await content.next()
    const t3 = performance.now()
    if (first.done || first.value.byteLength === 0) throw new Error('no first chunk')
    await content.return?.(undefined)
    await download.finish()
    return { total: t3 - t0, libp2p: t1 - t0, open: t2 - t1, firstChunk: t3 - t2, provider }
  } finally {
    await libp2p.stop()
  }
}

/**
 * `ttfb_vs_block_fetch`: time to the first verified byte of a 1 GiB file from a cold client,
 * against one HTTP GET (new connection) of a 1 MiB raw block from the same node plus its
 * sha256. `ttfb_size_growth`: the same cold start for 1 GiB ÷ for 16 MiB.
 */
export const ttfbVsBlockFetch: Bench = {
  names: ['ttfb_vs_block_fetch', 'ttfb_size_growth'],
  async run() {
    const net = await startBenchNet({ resources: 4 })
    try {
      const big = await net.putRandom('big.bin', BIG)
      const small = await net.putRandom('small.bin', SMALL)
      log(`  put 1 GiB ${big.root} and 16 MiB ${small.root}`)
      const nodeUrl = (peerId: string) => net.devnet.file.nodes.find((n) => n.peerId === peerId)?.httpUrl ?? ''
      const rootBlock = dagPb.decode(await httpGetBytes(`${nodeUrl(big.holders[0] ?? '')}/ipfs/${big.root}?format=raw`))
      const leaf = rootBlock.Links[0]?.Hash
      if (leaf === undefined) throw new Error('the 1 GiB root has no links')
      let provider = big.holders[0] ?? ''
      const steps: ColdStart[] = []

      const konbini1GiB = async () => {
        const c = await coldStart(net, big.root)
        provider = c.provider
        steps.push(c)
        return c.total
      }
      const blockFetch = async () => {
        const t0 = performance.now()
        const bytes = await httpGetBytes(`${nodeUrl(provider)}/ipfs/${leaf}?format=raw`)
        const digest = createHash('sha256').update(bytes).digest()
        const ms = performance.now() - t0
        if (bytes.byteLength !== MiB || !Buffer.from(leaf.multihash.digest).equals(digest)) throw new Error('the raw block did not match its CID')
        return ms
      }
      const konbini16MiB = async () => (await coldStart(net, small.root)).total
      log('  warm-up (not counted)')
      await konbini1GiB()
      await blockFetch()
      await konbini16MiB()
      steps.length = 0
      const r = await alternate(RUNS, { konbini1GiB, blockFetch, konbini16MiB }, { before: () => net.idle() })
      const stepMedian = (k: 'libp2p' | 'open' | 'firstChunk') => round(median(steps.map((s) => s[k])))
      const shared = {
        runs: RUNS,
        machineBusyPctPerRound: r.busyPct,
        devnet: '1 meta + 4 resource nodes, files put with R=3',
        konbiniPath:
          'in-process cold client: createNodeClientLibp2p + createKonbiniClient, open(root) (meta lookup, dial, root block), first chunk of entry.content({ blockReadConcurrency: readAhead })',
      }
      return {
        ttfb_vs_block_fetch: {
          ratio: r.medians.konbini1GiB / r.medians.blockFetch,
          goal: '<= 5',
          baseline: 'node:http GET /ipfs/{first leaf}?format=raw (1 MiB, new connection) from the node that served Konbini its first block, then sha256',
          detail: {
            konbiniTtfbMs: round(r.medians.konbini1GiB),
            blockFetchMs: round(r.medians.blockFetch),
            stepsMedianMs: { libp2pCreate: stepMedian('libp2p'), open: stepMedian('open'), firstChunk: stepMedian('firstChunk') },
            sizeMiB: BIG / MiB,
            ...shared,
            konbiniSamplesMs: r.samples.konbini1GiB.map(round),
            blockFetchSamplesMs: r.samples.blockFetch.map(round),
          },
        },
        ttfb_size_growth: {
          ratio: r.medians.konbini1GiB / r.medians.konbini16MiB,
          goal: '<= 1.2',
          baseline: 'the same cold-client time to first verified byte for a 16 MiB file',
          detail: {
            ttfb1GiBMs: round(r.medians.konbini1GiB),
            ttfb16MiBMs: round(r.medians.konbini16MiB),
            ...shared,
            ttfb1GiBSamplesMs: r.samples.konbini1GiB.map(round),
            ttfb16MiBSamplesMs: r.samples.konbini16MiB.map(round),
          },
        },
      }
    } finally {
      await net.stop()
    }
  },
}
