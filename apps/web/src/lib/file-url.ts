import type { FileRecord, NodeInfo } from '@konbini/protocol'

/**
 * The plain URL of a file (`{httpUrl}/ipfs/{root}`) on its first live holder, in the holders'
 * order, or `undefined` when no holder is live or known.
 * @example plainFileUrl(file, nodes) // 'http://127.0.0.1:7101/ipfs/bafy…'
 */
export function plainFileUrl(file: Pick<FileRecord, 'root' | 'holders'>, nodes: readonly NodeInfo[]): string | undefined {
  const byPeer = new Map(nodes.map((n) => [n.peerId, n]))
  for (const holder of file.holders) {
    const node = byPeer.get(holder)
    if (node?.live && node.httpUrl) return `${node.httpUrl.replace(/\/+$/, '')}/ipfs/${encodeURIComponent(file.root)}`
  }
  return undefined
}
