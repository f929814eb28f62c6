import { type Bench, MiB, alternate, log, mbps, median, round, timed } from './harness.ts'
import { type BenchNet, startBenchNet, waitForNode } from './net.ts'

const SIZE = 256 * MiB
const RUNS = 7
/** The node that gets capped (0-based devnet index). */
const SLOW = 3

/** Fresh client, `open(root, { only })`, reads the whole file (verified, not written). Returns ms and blocks per provider. */
async function download(net: BenchNet, root: string, only?: string[]): Promise<{ ms: number; blocks: Record<string, number> }> {
  const blocks: Record<string, number> = {}
  const ms = await timed(async () => {
    const { client, libp2p } = await net.client()
    try {
      const d = await client.open(root, only ? { only } : {})
      let bytes = 0
      try {
        if (d.entry.type !== 'file') throw new Error(`${root} is not a file`)
        for await (const chunk of d.entry.content({ blockReadConcurrency: d.readAhead })) bytes += chunk.byteLength
      } finally {
        await d.finish()
      }
      if (bytes !== SIZE) throw new Error(`read ${bytes} bytes, expected ${SIZE}`)
      for (const p of d.pool.stats()) blocks[p.peerId.slice(-6)] = p.blocks
    } finally {
      await libp2p.stop()
    }
  })
  return { ms, blocks }
}

/**
 * `slow_provider_penalty`: a 256 MiB file held by 4 nodes, one of them capped (its egress cap,
 * `KONBINI_EGRESS_BPS`) to 10 % of the speed it showed as the only provider. Time to read the
 * file from all 4 ÷ time from the 3 fast ones alone (`only`).
 */
export const slowProviderPenalty: Bench = {
  names: ['slow_provider_penalty'],
  async run() {
    const net = await startBenchNet({ resources: 4 })
    try {
      const { root, holders } = await net.putRandom('four.bin', SIZE, 4)
      if (holders.length !== 4) throw new Error(`put reported ${holders.length} holders, expected 4`)
      const slowNode = net.devnet.nodes[SLOW]
      const slowPeer = slowNode?.ready?.peerId
      if (slowNode === undefined || slowPeer === undefined) throw new Error('no node to cap')
      const fast = holders.filter((h) => h !== slowPeer)

      await download(net, root, [slowPeer]) // warm-up
      const alone: number[] = []
      for (let i = 0; i < 3; i++) alone.push(mbps(SIZE, (await download(net, root, [slowPeer])).ms))
      const aloneMBps = median(alone)
      const capBps = Math.round((aloneMBps * 1e6) / 10)
      log(`  node ${SLOW + 1} alone: ${round(aloneMBps)} MB/s; restarting it capped at ${round(capBps / 1e6)} MB/s`)
      slowNode.env.KONBINI_EGRESS_BPS = String(capBps)
      await slowNode.kill()
      const restartedAt = Math.floor(Date.now() / 1000)
      await slowNode.start()
      const { client, libp2p } = await net.client()
      await waitForNode(client, slowPeer, restartedAt, (n) => n.egressCapBps === capBps).finally(() => libp2p.stop())

      const split: Array<Record<string, number>> = []
      const all4 = async () => {
        const r = await download(net, root)
        split.push(r.blocks)
        return r.ms
      }
      const fast3 = async () => (await download(net, root, fast)).ms
      log('  warm-up (not counted)')
      await all4()
      await fast3()
      split.length = 0
      const r = await alternate(RUNS, { all4, fast3 }, { before: () => net.idle() })
      return {
        slow_provider_penalty: {
          ratio: r.medians.all4 / r.medians.fast3,
          goal: '<= 1.15',
          baseline: 'the same download from the 3 fast holders only (open(root, { only }))',
          detail: {
            all4Ms: round(r.medians.all4),
            fast3Ms: round(r.medians.fast3),
            slowAloneMBps: round(aloneMBps),
            slowCapMBps: round(capBps / 1e6),
            sizeMiB: SIZE / MiB,
            runs: RUNS,
            machineBusyPctPerRound: r.busyPct,
            konbiniPath: 'in-process fresh client per run, open(root) then entry.content() read to the end (verified, not written to disk)',
            devnet: '1 meta + 4 resource nodes, file put with replicas: 4; node 4 restarted with KONBINI_EGRESS_BPS',
            slowAloneSamplesMBps: alone.map(round),
            all4SamplesMs: r.samples.all4.map(round),
            fast3SamplesMs: r.samples.fast3.map(round),
            all4BlocksPerProvider: split,
            slowPeer: slowPeer.slice(-6),
          },
        },
      }
    } finally {
      await net.stop()
    }
  },
}
