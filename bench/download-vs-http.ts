import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeDownload } from '@konbini/browser-node/node'
import { type Bench, MiB, alternate, log, mbps, throughputFigure, timed, writeRandomFile } from './harness.ts'
import { httpGetToFile } from './http-client.ts'
import { startBenchNet } from './net.ts'
import { spawnServer } from './servers/spawn.ts'

const SIZE = 256 * MiB
const RUNS = 5

/**
 * `download_vs_http`: a fresh in-process client (`createNodeClientLibp2p` + `createKonbiniClient`,
 * `open(root)`, `writeDownload` to disk) downloads a 256 MiB file that 3 of 4 resource nodes hold,
 * against a `node:http` GET of the same file from another process, written to disk.
 */
export const downloadVsHttp: Bench = {
  names: ['download_vs_http'],
  async run() {
    const net = await startBenchNet({ resources: 4 })
    let server: Awaited<ReturnType<typeof spawnServer>> | undefined
    try {
      const src = join(net.dir, 'src.bin')
      await writeRandomFile(src, SIZE)
      const { root, holders } = await net.putFile(src)
      log(`  put ${root} on ${holders.length} holders`)
      server = await spawnServer('http-file-server.ts', [src, net.dir])
      const url = `http://127.0.0.1:${server.port}/file`
      const out = join(net.dir, 'out.bin')
      const perProvider: number[][] = []

      const konbini = async () => {
        let blocks: number[] = []
        const ms = await timed(async () => {
          const { client, libp2p } = await net.client()
          try {
            const download = await client.open(root)
            try {
              await writeDownload(download, out)
            } finally {
              await download.finish()
            }
            blocks = download.pool.stats().map((p) => p.blocks)
          } finally {
            await libp2p.stop()
          }
        })
        await checkAndRemove(out)
        perProvider.push(blocks)
        return mbps(SIZE, ms)
      }
      const http = async () => {
        const ms = await timed(() => httpGetToFile(url, out))
        await checkAndRemove(out)
        return mbps(SIZE, ms)
      }
      log('  warm-up (not counted)')
      await konbini()
      await http()
      perProvider.length = 0
      const r = await alternate(RUNS, { konbini, http }, { before: () => net.idle() })
      return {
        download_vs_http: throughputFigure(r, {
          goal: '>= 0.8',
          baseline: 'node:http GET of the same 256 MiB file served from disk by another process, written to disk by the client',
          size: SIZE,
          runs: RUNS,
          detail: {
            konbiniPath: 'in-process client: createNodeClientLibp2p + createKonbiniClient, open(root), writeDownload to disk (client creation included)',
            devnet: '1 meta + 4 resource nodes, file put with R=3',
            blocksPerProvider: perProvider,
          },
        }),
      }
    } finally {
      await server?.stop()
      await net.stop()
    }
  },
}

async function checkAndRemove(path: string): Promise<void> {
  const { size } = await stat(path)
  await rm(path, { force: true })
  if (size !== SIZE) throw new Error(`downloaded ${size} bytes, expected ${SIZE}`)
}
