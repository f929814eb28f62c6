import {
  DEVNET_CHAIN_ID,
  type SignedAccessGrant,
  MAX_RECEIPTS_PER_POST,
  NoProvidersError,
  type ProvidersResponse,
  type SignedDownloadTicket,
  type SignedReceipt,
  transferReportTypedData,
  canonicalDigest,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import type { MetaClient } from './meta-client.ts'
import type { OpenStream } from './block-session.ts'
import { signOwnerRequest } from './owner.ts'
import { ProviderPool } from './provider-pool.ts'
import { ReceiptSigner, type TypedDataSigner } from './receipt-signer.ts'

export interface OpenOptions {
  consumer: string
  /**
   * The consumer's key: signs the receipts of a paid ticket and the download's transfer report.
   * Without it nothing is reported, and a paid download stops after `MAX_UNSIGNED_BYTES` per provider.
   */
  signer?: TypedDataSigner
  /** Sign receipts (default true). False only to measure what receipts cost: a paid download then stops after `MAX_UNSIGNED_BYTES` per provider. */
  receipts?: boolean
  /** The owner's access grant, to read a root that is not public and that the consumer does not own. */
  grant?: SignedAccessGrant
  /** The chain id of the receipts' EIP-712 domain (default: the devnet's). */
  chainId?: number
  region?: string
  onBlock?: (bytes: number, provider: string) => void
  /** Called with the ranked providers before the first block is asked for. */
  onProviders?: (providers: ProvidersResponse['providers']) => void
  /** Use only these providers (peer ids), e.g. to compare subsets in a benchmark. */
  only?: readonly string[]
  /** Force one path to the providers (default: HTTP to full nodes, libp2p to others). */
  transport?: 'auto' | 'http' | 'libp2p'
  /** Also pull from light peers (browser tabs, reached over WebRTC): only where WebRTC exists. Default false. */
  lightPeers?: boolean
  /** How to open block streams to light peers (a direct WebRTC connection). */
  openStream?: OpenStream
  signal?: AbortSignal
}

export interface Download {
  entry: UnixFSEntry
  pool: ProviderPool
  ticket: SignedDownloadTicket
  /** The providers this download pulls from, as the meta node ranked them. */
  providers: ProvidersResponse['providers']
  /** How many blocks the exporter reads ahead; the pool spreads them over the providers. */
  readAhead: number
  /**
   * Sends what was measured (per provider: bytes, blocks, busy time, failures), signed by the
   * consumer, to the meta node, keeping the sessions open: a page calls it when a save or a
   * read of the whole file ends, so the meta node learns from browser downloads too. A ticket
   * is reported on once: later calls under the same ticket do nothing.
   */
  report(): Promise<void>
  /** Hands over the last receipts, reports (unless done under this ticket) and closes the sessions. */
  finish(): Promise<void>
}

/**
 * Asks a meta node for ranked providers of `root`, then opens it for reading through a
 * multi-provider pool. Read a file with `entry.content({ blockReadConcurrency: readAhead })`.
 */
export async function openDownload(meta: MetaClient, libp2p: Libp2p, root: string, options: OpenOptions): Promise<Download> {
  // the consumer's signed `read` proves who asks: a root that is not public is read only by its owner or a grant's holder
  const ask = async (providers?: string[]) =>
    meta.post('providers', {
      root,
      consumer: options.consumer,
      ...(options.region !== undefined && { region: options.region }),
      ...(providers !== undefined && { providers }),
      ...(options.signer !== undefined && {
        auth: await signOwnerRequest(options.signer, 'read', root, options.chainId ?? DEVNET_CHAIN_ID, options.consumer),
      }),
      ...(options.grant !== undefined && { grant: options.grant }),
    })
  const signerFor = (ticket: SignedDownloadTicket) =>
    options.signer && options.receipts !== false && ReceiptSigner.needed(ticket.ticket)
      ? new ReceiptSigner({ ticket: ticket.ticket, signer: options.signer, ...(options.chainId !== undefined && { chainId: options.chainId }) })
      : undefined
  const answer = await ask()
  const reachable = answer.providers.filter((p) => options.lightPeers === true || p.kind !== 'light')
  if (reachable.length === 0) throw new NoProvidersError({ cid: root })
  options.onProviders?.(reachable)
  const receipts = signerFor(answer.download)
  const used = options.only ? reachable.filter((p) => options.only?.includes(p.peerId)) : reachable
  const pool = new ProviderPool({
    libp2p,
    ticket: answer.download,
    ...(receipts !== undefined && { receipts }),
    // a download longer than a ticket's lifetime goes on under a new one (and its receipts)
    renewTicket: async () => {
      const { download } = await ask(used.map((p) => p.peerId))
      const next = signerFor(download)
      return { ticket: download, ...(next !== undefined && { receipts: next }) }
    },
    providers: used,
    ...(options.openStream !== undefined && { openStream: options.openStream }),
    ...(options.onBlock !== undefined && { onBlock: options.onBlock }),
    ...(options.transport !== undefined && { transport: options.transport }),
  })
  const readAhead = Math.min(64, 12 * reachable.length)
  const entry = await exporter(root, pool.blockstore())
  let reportedTicket: string | undefined
  /** The report due on the current ticket (none without a signer, once made, or with nothing to say). */
  const due = () => {
    const body = pool.report()
    body.providers = body.providers.filter((p) => p.blocks > 0 || p.failures > 0)
    const ticket = pool.lease.current.ticket
    return options.signer === undefined || reportedTicket === ticket.ticket.id || body.providers.length === 0 ? undefined : { ticket, body }
  }
  /** Signs and sends a due report with `receipts` (its ticket's) riding along; best effort: the meta node's figures are a hint, a failed report must not fail the download. */
  const report = async (pending = due(), receipts: SignedReceipt[] = []) => {
    const signer = options.signer
    if (pending === undefined || signer === undefined) return
    const { ticket, body } = pending
    reportedTicket = ticket.ticket.id
    const digest = canonicalDigest(body)
    const typedData = transferReportTypedData({ ticket: ticket.ticket.id, consumer: ticket.ticket.consumer, digest }, options.chainId)
    await signer
      .signTypedData(typedData)
      .then((signature) => meta.post('transferReport', { ticket, report: body, signature, ...(receipts.length > 0 && { receipts }) }))
      .catch(() => {})
  }
  return {
    entry,
    pool,
    ticket: answer.download,
    providers: reachable,
    readAhead,
    report: () => report(),
    async finish() {
      const signers = pool.lease.all().flatMap((g) => (g.receipts === undefined ? [] : [g.receipts]))
      // the last receipts, signed now: the providers' copies and the meta node's go at once
      for (const signer of signers) signer.finalAll()
      // the consumer's own copy of its receipts: the traffic counts even if a provider never hands them in
      const signed = (await Promise.all(signers.map((s) => s.all().catch(() => [])))).flat()
      // the current ticket's ride with its report (one request), when one is due
      const pending = due()
      const riding = pending === undefined ? [] : signed.filter((r) => r.receipt.ticket === pending.ticket.ticket.id)
      const rest = signed.filter((r) => !riding.includes(r))
      const posts = []
      for (let at = 0; at < rest.length; at += MAX_RECEIPTS_PER_POST)
        posts.push(meta.post('receipts', { receipts: rest.slice(at, at + MAX_RECEIPTS_PER_POST) }).catch(() => {}))
      // independent round trips: at once, not one after another
      await Promise.all([pool.finish(), ...posts, report(pending, riding)])
    },
  }
}
