import { MetaClient, put, type TypedDataSigner } from '@konbini/browser-node'
import { isErrorNamed } from '@konbini/protocol'

/**
 * Stores an epoch's receipts archive on the network itself, owned by the meta node, through the
 * meta node's own API (placement, pipeline upload, storage reports), as any client would. Three
 * replicas where the network has them, else one. It is public: anyone reads it from a holder's
 * gateway (holders learn it is public at their next heartbeat; readers retry until then).
 */
export async function publishArchive({
  metaUrl,
  account,
  chainId,
  archive,
  epoch,
}: {
  metaUrl: string
  /** The meta node's own key: it owns the archive and signs its placement. */
  account: TypedDataSigner
  chainId: number
  archive: Uint8Array
  epoch: number
}): Promise<string> {
  const meta = new MetaClient({ urls: [metaUrl] })
  const upload = (replicas?: number) =>
    put(meta, [{ content: archive }], {
      owner: account.address,
      signer: account,
      chainId,
      name: `konbini-epoch-${epoch}.json`,
      size: archive.byteLength,
      // anyone verifies a report from its archive, read from any holder's public gateway
      public: true,
      ...(replicas !== undefined && { replicas }),
    })
  try {
    return (await upload()).root
  } catch (err) {
    if (!isErrorNamed(err, 'NotEnoughNodesError')) throw err
    return (await upload(1)).root
  }
}
