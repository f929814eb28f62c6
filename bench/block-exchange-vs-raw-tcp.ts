import { connect } from 'node:net'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { BlockSession } from '@konbini/browser-node'
import type { CID } from 'multiformats/cid'
import { type Bench, MiB, alternate, log, mbps, round, timed, writeRandomFile } from './harness.ts'
import { httpGetBytes } from './http-client.ts'
import { startBenchNet } from './net.ts'
import { spawnServer } from './servers/spawn.ts'

const SIZE = 256 * MiB
const RUNS = 5

/** Reads everything a raw TCP server sends; resolves with the byte count. */
function readSocket(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0
    const socket = connect(port, '127.0.0.1')
    socket.on('data', (chunk) => {
      bytes += chunk.byteLength
    })
    socket.once('end', () => resolve(bytes))
    socket.once('error', reject)
  })
}

/**
 * `block_exchange_vs_raw_tcp`: one `/konbini/blocks/1.0.0` session (libp2p TCP + Noise + Yamux,
 * a real download ticket) from this process to a resource relay process holding the 256 × 1 MiB
 * leaves of a file, asking for all of them at once (`BlockSession`, no hash check) — against a raw
 * TCP socket from another process carrying the same file's bytes.
 */
export const blockExchangeVsRawTcp: Bench = {
  names: ['block_exchange_vs_raw_tcp'],
  async run() {
    const net = await startBenchNet({ resources: 1 })
    let server: Awaited<ReturnType<typeof spawnServer>> | undefined
    try {
      const src = join(net.dir, 'blocks.bin')
      await writeRandomFile(src, SIZE)
      const { root } = await net.putFile(src, 1)
      const node = net.devnet.file.nodes[0]
      if (node === undefined) throw new Error('no resource node')
      const leaves: CID[] = dagPb.decode(await httpGetBytes(`${node.httpUrl}/ipfs/${root}?format=raw`)).Links.map((l) => l.Hash)
      if (leaves.length !== SIZE / MiB) throw new Error(`expected ${SIZE / MiB} leaves, the root links ${leaves.length}`)
      server = await spawnServer('tcp-file-server.ts', [src])
      const port = server.port

      const blocks = async () => {
        const { client, libp2p } = await net.client()
        try {
          const { download, providers } = await client.meta.post('providers', { root, consumer: client.address })
          const endpoint = providers[0]
          if (endpoint === undefined) throw new Error('no provider')
          let bytes = 0
          const ms = await timed(async () => {
            const session = await BlockSession.open(libp2p, endpoint, download)
            await Promise.all(
              leaves.map(async (cid) => {
                const block = await session.want(cid)
                bytes += block.byteLength
              }),
            )
            session.close()
          })
          if (bytes !== SIZE) throw new Error(`received ${bytes} bytes, expected ${SIZE}`)
          return mbps(SIZE, ms)
        } finally {
          await libp2p.stop()
        }
      }
      const rawTcp = async () => {
        let bytes = 0
        const ms = await timed(async () => {
          bytes = await readSocket(port)
        })
        if (bytes !== SIZE) throw new Error(`received ${bytes} bytes, expected ${SIZE}`)
        return mbps(SIZE, ms)
      }
      log('  warm-up (not counted)')
      await blocks()
      await rawTcp()
      const r = await alternate(RUNS, { blocks, rawTcp }, { before: () => net.idle() })
      return {
        block_exchange_vs_raw_tcp: {
          ratio: r.medians.blocks / r.medians.rawTcp,
          goal: '>= 0.3',
          baseline: 'a raw TCP socket from a server process (file read from disk, piped) to this process, same 256 MiB',
          detail: {
            blocksMBps: round(r.medians.blocks),
            rawTcpMBps: round(r.medians.rawTcp),
            sizeMiB: SIZE / MiB,
            runs: RUNS,
            machineBusyPctPerRound: r.busyPct,
            konbiniPath:
              'one BlockSession (dial + Hello with a real download ticket) from this process to a resource relay process (DurableBlockstore), 256 wants in one want-list, blocks counted, not hashed',
            blocksSamplesMBps: r.samples.blocks.map(round),
            rawTcpSamplesMBps: r.samples.rawTcp.map(round),
          },
        },
      }
    } finally {
      await server?.stop()
      await net.stop()
    }
  },
}
