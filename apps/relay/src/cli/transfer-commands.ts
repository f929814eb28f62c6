import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fsSource, writeDownload } from '@konbini/browser-node/node'
import { parseCid } from '@konbini/protocol'
import { type GlobalFlags, openClient } from './context.ts'
import { formatBytes, print, progressBar } from './output.ts'

/** `konbini put <path> [--replicas R] [--public]`: uploads a file or a folder, done when R nodes hold it durably. */
export async function putCommand(flags: GlobalFlags, args: { path: string; replicas?: number; public?: boolean }): Promise<void> {
  const source = await fsSource(resolve(args.path))
  const { client, libp2p } = await openClient(flags)
  try {
    const bar = progressBar(`put ${source.name}`, source.size, !flags.json)
    const started = performance.now()
    // a function: a placement whose pipeline breaks at a node is tried again elsewhere, reading the files afresh
    const result = await client.put(() => source.candidates(), {
      name: source.name,
      size: source.size,
      ...(args.replicas !== undefined && { replicas: args.replicas }),
      ...(args.public && { public: true }),
      onProgress: (sent) => bar.set(sent),
    })
    bar.finish()
    const seconds = (performance.now() - started) / 1000
    print(flags.json, { ...result, name: source.name, kind: source.kind, public: args.public === true, seconds }, () =>
      [
        `${result.root}`,
        `  ${source.kind} ${source.name}, ${formatBytes(source.size)} in ${seconds.toFixed(1)} s`,
        `  ${result.holders.length} holders: ${result.holders.join(', ')}`,
        ...(result.skippedBlocks > 0 ? [`  resumed: ${result.skippedBlocks} blocks were already held, ${formatBytes(result.sentBytes)} sent`] : []),
      ].join('\n'),
    )
  } finally {
    await libp2p.stop()
  }
}

/** `konbini get <cid> [-o out]`: downloads from several providers at once, verifying every block. */
export async function getCommand(flags: GlobalFlags, args: { cid: string; output?: string }): Promise<void> {
  const root = parseCid(args.cid).toString()
  const out = resolve(args.output ?? root)
  if (args.output === undefined && (await stat(out).catch(() => undefined))) throw new Error(`${out} already exists; pass -o <path>.`)
  const { client, libp2p } = await openClient(flags)
  try {
    const started = performance.now()
    const download = await client.open(root)
    const bar = progressBar(`get ${root.slice(0, 16)}…`, Number(download.entry.size), !flags.json)
    let result: { files: number; bytes: number }
    try {
      result = await writeDownload(download, out, (n) => bar.add(n))
    } finally {
      bar.finish()
      await download.finish()
    }
    const seconds = (performance.now() - started) / 1000
    const providers = download.pool.stats().map(({ peerId, bytes, blocks, failures, dead }) => ({ peerId, bytes, blocks, failures, dead }))
    print(flags.json, { root, output: out, ...result, seconds, providers }, () =>
      [
        `${out}`,
        `  ${result.files} file(s), ${formatBytes(result.bytes)} in ${seconds.toFixed(1)} s, every block verified`,
        ...providers.map((p) => `  ${p.peerId.slice(-8)}: ${formatBytes(p.bytes)} in ${p.blocks} blocks${p.failures ? `, ${p.failures} failures` : ''}`),
      ].join('\n'),
    )
  } finally {
    await libp2p.stop()
  }
}
