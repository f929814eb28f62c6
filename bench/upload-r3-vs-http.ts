import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fsSource } from '@konbini/browser-node/node'
import { type Bench, MiB, alternate, log, mbps, throughputFigure, timed, writeRandomFile } from './harness.ts'
import { httpPostFile } from './http-client.ts'
import { startBenchNet } from './net.ts'
import { spawnServer } from './servers/spawn.ts'

const SIZE = 256 * MiB
const RUNS = 5

/**
 * `upload_r3_vs_http`: `put` of a 256 MiB file of fresh random bytes (so no node can skip a
 * block) with R=3 — imported, sent once, pipelined, done when the meta node holds 3 durable
 * reports — against one `node:http` POST of a file of the same size to a server process that
 * writes it to a file and fsyncs before answering.
 */
export const uploadR3VsHttp: Bench = {
  names: ['upload_r3_vs_http'],
  async run() {
    const net = await startBenchNet({ resources: 4 })
    let server: Awaited<ReturnType<typeof spawnServer>> | undefined
    try {
      const uploads = join(net.dir, 'http-uploads')
      await writeRandomFile(join(uploads, '.keep'), 0)
      server = await spawnServer('http-file-server.ts', ['', uploads])
      const url = `http://127.0.0.1:${server.port}/upload`
      const src = join(net.dir, 'upload.bin')
      const skipped: number[] = []

      const konbini = async () => {
        await writeRandomFile(src, SIZE) // fresh bytes: nothing to resume
        const ms = await timed(async () => {
          const { client, libp2p } = await net.client()
          try {
            const source = await fsSource(src)
            const r = await client.put(source.candidates(), { name: source.name, size: source.size, replicas: 3 })
            if (r.holders.length !== 3) throw new Error(`put reported ${r.holders.length} holders, expected 3`)
            skipped.push(r.skippedBlocks)
          } finally {
            await libp2p.stop()
          }
        })
        return mbps(SIZE, ms)
      }
      const http = async () => {
        const ms = await timed(async () => {
          const answer = JSON.parse(await httpPostFile(url, src)) as { path: string }
          await rm(answer.path, { force: true })
        })
        await rm(src, { force: true })
        return mbps(SIZE, ms)
      }
      log('  warm-up (not counted)')
      await konbini()
      await http()
      skipped.length = 0
      const r = await alternate(RUNS, { konbini, http }, { before: () => net.idle() })
      return {
        upload_r3_vs_http: throughputFigure(r, {
          goal: '>= 0.5',
          baseline: 'one node:http POST of a 256 MiB file to a server process that writes it to a file and fsyncs (file and folder) before answering',
          size: SIZE,
          runs: RUNS,
          detail: {
            konbiniPath: 'in-process client: createKonbiniClient + fsSource, put(replicas: 3) until 3 durable reports; fresh random bytes every run',
            devnet: '1 meta + 4 resource nodes',
            skippedBlocks: skipped,
          },
        }),
      }
    } finally {
      await server?.stop()
      await net.stop()
    }
  },
}
