/** Fields every Konbini error carries. */
export interface BaseErrorOptions {
  details?: string | undefined
  cause?: unknown
}

/**
 * Root of every Konbini error. Checked by `err.name`, which survives double bundling
 * and crossing the wire as `{ error: { name, message } }`.
 */
export class BaseError extends Error {
  override name: string = 'BaseError'
  readonly details: string | undefined
  /** HTTP status used when this error crosses the control plane. */
  readonly status: number = 400

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    super(shortMessage, options.cause === undefined ? undefined : { cause: options.cause })
    this.details = options.details
  }

  /** The only shape an error takes on the wire. */
  toJSON(): { error: { name: string; message: string } } {
    return { error: { name: this.name, message: this.message } }
  }
}

function named<const N extends string>(name: N, status = 400) {
  return class extends BaseError {
    override name: N = name
    override readonly status: number = status
  }
}

export class InvalidCidError extends named('InvalidCidError') {
  constructor({ cid }: { cid: string }) {
    super(`"${printable(cid)}" is not a valid CID.`)
  }
}
export class UnsupportedCidError extends named('UnsupportedCidError') {
  constructor({ cid, reason }: { cid: string; reason: string }) {
    super(`CID ${cid} is not supported: ${reason}.`)
  }
}
export class BlockNotFoundError extends named('BlockNotFoundError', 404) {
  constructor({ cid }: { cid: string }) {
    super(`Block ${cid} is not stored here.`)
  }
}
export class FileNotFoundError extends named('FileNotFoundError', 404) {
  constructor({ cid }: { cid: string }) {
    super(`No file with CID ${cid} is known to this meta node.`)
  }
}
export class BlockHashMismatchError extends named('BlockHashMismatchError') {
  constructor({ cid }: { cid: string }) {
    super(`Bytes received for ${cid} do not hash to that CID.`)
  }
}
export class BlockTooLargeError extends named('BlockTooLargeError', 413) {
  constructor({ size, max }: { size: number; max: number }) {
    super(`A block of ${size} bytes is over the ${max}-byte limit.`)
  }
}
export class MessageTooLargeError extends named('MessageTooLargeError', 413) {
  constructor({ size, max }: { size: number; max: number }) {
    super(`A message of ${size} bytes is over the ${max}-byte limit.`)
  }
}
export class WantListTooLargeError extends named('WantListTooLargeError', 413) {
  constructor({ size, max }: { size: number; max: number }) {
    super(`A want-list of ${size} CIDs is over the ${max}-CID limit.`)
  }
}
export class InvalidMessageError extends named('InvalidMessageError') {
  constructor({ reason }: { reason: string }) {
    super(`Malformed message: ${reason}.`)
  }
}
export class InvalidRequestError extends named('InvalidRequestError') {
  constructor({ reason }: { reason: string }) {
    super(`Invalid request: ${reason}.`)
  }
}
export class InvalidNameError extends named('InvalidNameError') {
  constructor({ name, reason }: { name: string; reason: string }) {
    super(`The name "${printable(name)}" is not allowed: ${reason}.`)
  }
}
export class TicketMissingError extends named('TicketMissingError', 401) {
  constructor() {
    super('This request needs a ticket from a meta node.')
  }
}
export class TicketForgedError extends named('TicketForgedError', 403) {
  constructor({ ticketId }: { ticketId: string }) {
    super(`Ticket ${ticketId} does not carry a valid meta-node signature.`)
  }
}
export class TicketExpiredError extends named('TicketExpiredError', 403) {
  constructor({ ticketId }: { ticketId: string }) {
    super(`Ticket ${ticketId} has expired; ask the meta node for a new one.`)
  }
}
export class UntrustedMetaError extends named('UntrustedMetaError', 403) {
  constructor({ meta }: { meta: string }) {
    super(`Tickets signed by ${meta} are not trusted by this node.`)
  }
}
export class TicketScopeError extends named('TicketScopeError', 403) {
  constructor({ ticketId, reason }: { ticketId: string; reason: string }) {
    super(`Ticket ${ticketId} does not allow this: ${reason}.`)
  }
}
export class SignatureInvalidError extends named('SignatureInvalidError', 401) {
  constructor() {
    super('The request signature is missing, malformed or expired.')
  }
}
export class NotOwnerError extends named('NotOwnerError', 403) {
  constructor({ cid, address }: { cid: string; address: string }) {
    super(`${address} does not own ${cid}.`)
  }
}
export class NotEnoughNodesError extends named('NotEnoughNodesError', 503) {
  constructor({ wanted, live }: { wanted: number; live: number }) {
    super(`Needed ${wanted} live resource nodes, but only ${live} are available.`)
  }
}
export class NoProvidersError extends named('NoProvidersError', 503) {
  constructor({ cid }: { cid: string }) {
    super(`No live node can serve ${cid} right now.`)
  }
}
export class RateLimitedError extends named('RateLimitedError', 429) {
  constructor({ what }: { what: string }) {
    super(`Too many ${what}; slow down and retry.`)
  }
}
export class ReplicationIncompleteError extends named('ReplicationIncompleteError', 503) {
  constructor({ wanted, got }: { wanted: number; got: number }) {
    super(`Only ${got} of ${wanted} nodes confirmed the upload.`)
  }
}
export class QuotaExceededError extends named('QuotaExceededError', 413) {
  constructor({ ticketId, max }: { ticketId: string; max: number }) {
    super(`Ticket ${ticketId} allows at most ${max} bytes.`)
  }
}
export class MetaUnavailableError extends named('MetaUnavailableError', 503) {
  constructor({ urls }: { urls: readonly string[] }) {
    super(`No meta node answered (${urls.join(', ')}).`)
  }
}
export class ProviderFailedError extends named('ProviderFailedError', 502) {
  constructor({ provider, reason }: { provider: string; reason: string }) {
    super(`Provider ${provider} failed: ${reason}.`)
  }
}
export class DownloadStalledError extends named('DownloadStalledError', 504) {
  constructor({ cid, seconds }: { cid: string; seconds: number }) {
    super(`No provider sent a block of ${cid} in ${seconds} s; try the download again later.`)
  }
}
export class NotAdminError extends named('NotAdminError', 403) {
  constructor({ address }: { address: string }) {
    super(`${address} is not an admin of this meta node; only its admins may change the denylist.`)
  }
}
export class ReceiptForgedError extends named('ReceiptForgedError', 403) {
  constructor({ ticketId }: { ticketId: string }) {
    super(`A receipt for ticket ${ticketId} is not signed by the ticket's consumer.`)
  }
}
export class ReceiptScopeError extends named('ReceiptScopeError', 403) {
  constructor({ ticketId, reason }: { ticketId: string; reason: string }) {
    super(`A receipt for ticket ${ticketId} does not count: ${reason}.`)
  }
}
export class ReceiptReplayedError extends named('ReceiptReplayedError', 409) {
  constructor({ ticketId, bytes }: { ticketId: string; bytes: number }) {
    super(`A receipt for ticket ${ticketId} claims ${bytes} bytes, no more than one already received: nothing new is counted.`)
  }
}
export class HeartbeatStaleError extends named('HeartbeatStaleError', 400) {
  constructor({ issuedAt, now }: { issuedAt: number; now: number }) {
    super(`The heartbeat was issued at ${issuedAt}, too far from the meta node's clock (${now}); send a fresh one.`)
  }
}
export class HeartbeatReplayedError extends named('HeartbeatReplayedError', 409) {
  constructor({ peerId, seq }: { peerId: string; seq: number }) {
    super(`A heartbeat of ${peerId} numbered ${seq} is no newer than one already taken: replays are refused.`)
  }
}
export class NodeUrlUnverifiedError extends named('NodeUrlUnverifiedError', 403) {
  constructor({ url, reason }: { url: string; reason: string }) {
    super(`The node's URL ${url.slice(0, 200)} did not prove the node's identity: ${reason}.`)
  }
}
export class UploadTicketUsedError extends named('UploadTicketUsedError', 409) {
  constructor({ ticketId }: { ticketId: string }) {
    super(`Upload ticket ${ticketId} has stored its upload already; place the next upload for a new ticket.`)
  }
}
export class NodeNotStakedError extends named('NodeNotStakedError', 403) {
  constructor({ peerId, reason }: { peerId: string; reason: string }) {
    super(`Node ${peerId} is not placeable: ${reason}. Register it with stake on the chain (konbini register).`)
  }
}
export class TransferReportScopeError extends named('TransferReportScopeError', 403) {
  constructor({ ticketId, reason }: { ticketId: string; reason: string }) {
    super(`A transfer report for ticket ${ticketId} does not count: ${reason}.`)
  }
}
export class TransferReportReplayedError extends named('TransferReportReplayedError', 409) {
  constructor({ ticketId }: { ticketId: string }) {
    super(`Ticket ${ticketId} was already reported on: a ticket's transfer report counts once.`)
  }
}
export class ReceiptsOverdueError extends named('ReceiptsOverdueError', 402) {
  constructor({ ticketId, unsigned }: { ticketId: string; unsigned: number }) {
    super(`Ticket ${ticketId} has ${unsigned} bytes served without a receipt; send a signed receipt to be served more.`)
  }
}
export class CreditExhaustedError extends named('CreditExhaustedError', 402) {
  constructor({ account }: { account: string }) {
    super(`Neither ${account} nor the file's owner has traffic credit left for this download; prepay credit (konbini prepay) or use the public gateway.`)
  }
}
export class EpochClosedError extends named('EpochClosedError', 409) {
  constructor({ epoch }: { epoch: number }) {
    super(`Epoch ${epoch} is closed: its receipts were counted and no more are accepted.`)
  }
}
export class ChainUnavailableError extends named('ChainUnavailableError', 503) {
  constructor({ reason }: { reason: string }) {
    super(`This meta node has no chain to settle on: ${reason}.`)
  }
}
export class InternalError extends named('InternalError', 500) {
  constructor() {
    super('The node hit an internal error; nothing was lost, retry later.')
  }
}

/** Makes names with control characters safe to echo back in a message. */
function printable(value: string): string {
  const clipped = value.length > 120 ? `${value.slice(0, 120)}…` : value
  // control characters, bidirectional controls and line separators: shown as escapes, never raw
  return clipped.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** An error that came over the wire: keeps the sender's name so callers can branch on it. */
export class RemoteError extends BaseError {
  constructor(name: string, message: string, status: number) {
    super(message)
    this.name = name
    Object.defineProperty(this, 'status', { value: status })
  }
}

/** Turns any thrown value into the wire shape, hiding internals of unexpected errors. */
export function toWireError(err: unknown): { status: number; body: { error: { name: string; message: string } } } {
  if (err instanceof BaseError) return { status: err.status, body: err.toJSON() }
  const internal = new InternalError()
  return { status: internal.status, body: internal.toJSON() }
}

/** Checks an error's name without relying on `instanceof`. */
export function isErrorNamed(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === name
}

/** An admin denylisted the root: no Konbini node serves it, on any path. */
export class ContentDeniedError extends named('ContentDeniedError', 451) {
  constructor({ cid }: { cid: string }) {
    super(`${cid} is on the network's denylist: it is not served here.`)
  }
}
/** A root that is not public is served only under a ticket issued to its owner or a grant holder. */
export class NotPublicError extends named('NotPublicError', 403) {
  constructor({ cid }: { cid: string }) {
    super(`${cid} is not a public file here: ask its owner for access (a download ticket or an access grant).`)
  }
}
/** The caller may not read this root: it is neither its owner nor the holder of the owner's access grant. */
export class AccessDeniedError extends named('AccessDeniedError', 403) {
  constructor({ cid, account }: { cid: string; account: string }) {
    super(`${account} may not read ${cid}: it is private to its owner and those the owner granted access.`)
  }
}
/** A holder did not prove it keeps a root's blocks: it sent none, or other bytes, or no answer in time. */
export class StorageProofFailedError extends named('StorageProofFailedError', 422) {
  constructor({ peerId, root, reason }: { peerId: string; root: string; reason: string }) {
    super(`Node ${peerId} did not prove it stores ${root}: ${reason}.`)
  }
}
