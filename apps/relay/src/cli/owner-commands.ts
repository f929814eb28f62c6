import { type GlobalFlags, openClient } from './context.ts'
import { formatBytes, print } from './output.ts'

async function withClient<T>(flags: GlobalFlags, fn: (client: Awaited<ReturnType<typeof openClient>>['client']) => Promise<T>): Promise<T> {
  const { client, libp2p } = await openClient(flags)
  try {
    return await fn(client)
  } finally {
    await libp2p.stop()
  }
}

/** `konbini ls`: the caller's files (owner-signed). */
export async function lsCommand(flags: GlobalFlags): Promise<void> {
  const files = await withClient(flags, (c) => c.ls())
  print(flags.json, { files }, () =>
    files.length === 0
      ? 'No files yet. Upload one with: konbini put <path>'
      : files.map((f) => `${f.root}  ${formatBytes(f.size).padStart(10)}  ${f.holders.length} holders  ${f.name}`).join('\n'),
  )
}

/** `konbini stat <cid>`: one of the caller's files and its holders. */
export async function statCommand(flags: GlobalFlags, cid: string): Promise<void> {
  const file = await withClient(flags, (c) => c.stat(cid))
  print(flags.json, { file }, () =>
    [
      `${file.root}`,
      `  name: ${file.name}`,
      `  size: ${formatBytes(file.size)}`,
      `  holders (${file.holders.length}):`,
      ...file.holders.map((h) => `    ${h}`),
    ].join('\n'),
  )
}

/** `konbini rm <cid>`: drops the caller's pin. */
export async function rmCommand(flags: GlobalFlags, cid: string): Promise<void> {
  const removed = await withClient(flags, (c) => c.rm(cid))
  print(flags.json, { removed }, () => `Removed ${removed}`)
}

/** `konbini nodes`: the network's nodes as the meta node measures them. */
export async function nodesCommand(flags: GlobalFlags): Promise<void> {
  const nodes = await withClient(flags, (c) => c.nodes())
  print(
    flags.json,
    { nodes },
    () =>
      nodes
        .map(
          (n) =>
            `${n.live ? 'live' : 'down'}  ${n.peerId}  ${n.httpUrl}  ${formatBytes(n.usedBytes)} used  ${(n.throughputBps / 1024 / 1024).toFixed(1)} MiB/s  ${(n.successRate * 100).toFixed(0)}%  score ${n.score.toFixed(1)}`,
        )
        .join('\n') || 'No nodes have registered.',
  )
}
