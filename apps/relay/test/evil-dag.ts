import * as dagPb from '@ipld/dag-pb'
import { signPlacement } from '@konbini/browser-node'
import { DEVNET_CHAIN_ID, type PlacementResponse } from '@konbini/protocol'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { PrivateKeyAccount } from 'viem/accounts'
import { postJson, postUpload, rawBlock, type WireAnswer } from './wire.ts'

/** Hand-built UnixFS DAGs with entry names the importer would never write, for tests of downloaders. */

export interface Block {
  cid: CID
  bytes: Uint8Array
}

/** A UnixFS directory block linking `entries` by name (no name checks: that is the point). */
export async function directoryBlock(entries: Array<{ name: string; block: Block }>): Promise<Block> {
  const node = dagPb.prepare({
    Data: new UnixFS({ type: 'directory' }).marshal(),
    Links: entries.map(({ name, block }) => ({ Name: name, Hash: block.cid, Tsize: block.bytes.byteLength })),
  })
  const bytes = dagPb.encode(node)
  return { cid: CID.createV1(dagPb.code, await sha256.digest(bytes)), bytes }
}

/**
 * A folder whose single entry is named `name`. For `..` the entry is itself a folder holding
 * `escaped.txt`, so a downloader that followed it would write beside the target folder.
 * Blocks come leaves first, root last (the order an upload sends them).
 */
export async function evilFolder(name: string): Promise<{ root: CID; blocks: Block[]; size: number }> {
  const leaf = await rawBlock(4096)
  if (name === '..') {
    const inner = await directoryBlock([{ name: 'escaped.txt', block: leaf }])
    const root = await directoryBlock([{ name, block: inner }])
    return { root: root.cid, blocks: [leaf, inner, root], size: leaf.bytes.byteLength }
  }
  const root = await directoryBlock([{ name, block: leaf }])
  return { root: root.cid, blocks: [leaf, root], size: leaf.bytes.byteLength }
}

/** Asks the meta node for a real placement (a signed upload ticket and its pipeline). */
export async function placement(metaUrl: string, owner: PrivateKeyAccount, name: string, size: number, isPublic = false): Promise<PlacementResponse> {
  const answer = await postJson(metaUrl, '/v1/uploads', await signPlacement(owner, { owner: owner.address, name, size, public: isPublic }, DEVNET_CHAIN_ID))
  if (answer.status !== 200) throw new Error(`placement failed: ${JSON.stringify(answer.body)}`)
  return answer.body as unknown as PlacementResponse
}

/** Sends `body` to the first node of a placement, the way the client does. */
export function uploadTo(place: PlacementResponse, body: Uint8Array): Promise<WireAnswer> {
  return postUpload((place.nodes[0] as { httpUrl: string }).httpUrl, { ticket: place.upload, route: place.nodes, body })
}
