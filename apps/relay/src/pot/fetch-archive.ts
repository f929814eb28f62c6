import { BaseError, type EpochArchive, epochArchive, parseWith, verifyBlock } from '@konbini/protocol'
import { exporter } from 'ipfs-unixfs-exporter'
import { CID } from 'multiformats/cid'

/** How long a reader waits for holders to serve a just-published archive (they learn it is public at their next heartbeat). */
const PUBLIC_WAIT_MS = 20_000

/** Largest archive a co-signer reads. */
const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024

export class ArchiveUnavailableError extends BaseError {
  override name = 'ArchiveUnavailableError' as const
  constructor({ cid, reason }: { cid: string; reason: string }) {
    super(`The receipts archive ${cid} could not be read from the network: ${reason}.`)
  }
}

/**
 * Reads an epoch's receipts archive from the network by its CID: every block from a holder's
 * trustless gateway (`?format=raw`), checked against its CID, so a holder cannot change a byte.
 */
export async function fetchArchive(cid: string, holderUrls: readonly string[]): Promise<EpochArchive> {
  if (holderUrls.length === 0) throw new ArchiveUnavailableError({ cid, reason: 'no holder is known' })
  const getBlock = async (block: CID): Promise<Uint8Array> => {
    // a holder serves the archive once its heartbeat learned it is public: retry a little while
    const deadline = performance.now() + PUBLIC_WAIT_MS
    for (;;) {
      const bytes = await fromAnyHolder(block, holderUrls)
      if (bytes !== undefined) return bytes
      if (performance.now() > deadline) throw new ArchiveUnavailableError({ cid, reason: `no holder sent block ${block}` })
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  // the exporter reads a block as a stream of chunks
  const blockstore = {
    async *get(block: CID) {
      yield await getBlock(block)
    },
  }
  const entry = await exporter(CID.parse(cid), blockstore as never)
  if (entry.type !== 'file' && entry.type !== 'raw') throw new ArchiveUnavailableError({ cid, reason: 'it is not a file' })
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of entry.content()) {
    size += chunk.byteLength
    if (size > MAX_ARCHIVE_BYTES) throw new ArchiveUnavailableError({ cid, reason: 'it is too large' })
    chunks.push(chunk)
  }
  let json: unknown
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ArchiveUnavailableError({ cid, reason: 'it is not JSON' })
  }
  return parseWith(epochArchive, json)
}

/** One block from the first holder that sends bytes hashing to its CID (a holder that sends other bytes is skipped). */
async function fromAnyHolder(block: CID, holderUrls: readonly string[]): Promise<Uint8Array | undefined> {
  for (const url of holderUrls) {
    const res = await fetch(new URL(`/ipfs/${block}?format=raw`, url), { signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
    if (!res?.ok) continue
    const bytes = new Uint8Array(await res.arrayBuffer())
    const valid = await verifyBlock(block, bytes).then(
      () => true,
      () => false,
    )
    if (valid) return bytes
  }
  return undefined
}
