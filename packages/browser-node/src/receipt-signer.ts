import {
  type DownloadTicket,
  NO_PAYER,
  type ownerRequestTypedData,
  RECEIPT_INTERVAL_BYTES,
  type Receipt,
  receiptTypedData,
  type SignedReceipt,
  type transferReportTypedData,
} from '@konbini/protocol'

/** Anything that signs EIP-712 typed data as a consumer or owner (a viem local account, a session key): receipts, transfer reports, owner requests. */
export interface TypedDataSigner {
  address: string
  signTypedData(typedData: ReturnType<typeof receiptTypedData>): Promise<`0x${string}`>
  signTypedData(typedData: ReturnType<typeof transferReportTypedData>): Promise<`0x${string}`>
  signTypedData(typedData: ReturnType<typeof ownerRequestTypedData>): Promise<`0x${string}`>
}

export interface ReceiptSignerInit {
  ticket: DownloadTicket
  signer: TypedDataSigner
  chainId?: number
  /** Sign every this many bytes received from a provider. */
  intervalBytes?: number
}

/**
 * The consumer's side of Proof of Traffic for one download ticket: counts every byte each
 * provider sends (blocks that turn out to be duplicates were sent all the same) and signs a
 * cumulative receipt every `intervalBytes`, and a last one when the download finishes.
 */
export class ReceiptSigner {
  private readonly init: ReceiptSignerInit
  private readonly received = new Map<string, number>()
  private readonly signed = new Map<string, number>()
  private readonly latest = new Map<string, Promise<SignedReceipt>>()

  constructor(init: ReceiptSignerInit) {
    this.init = init
  }

  /** Whether this ticket is paid (an unpaid one needs no receipts). */
  static needed(ticket: DownloadTicket): boolean {
    return ticket.payer.toLowerCase() !== NO_PAYER
  }

  /** Counts bytes from `provider`; returns the receipt to send when one is due. */
  add(provider: string, bytes: number): Promise<SignedReceipt> | undefined {
    const total = (this.received.get(provider) ?? 0) + bytes
    this.received.set(provider, total)
    if (total - (this.signed.get(provider) ?? 0) < (this.init.intervalBytes ?? RECEIPT_INTERVAL_BYTES)) return undefined
    return this.sign(provider)
  }

  /** The receipt for everything received from `provider`, when part of it is unsigned. */
  final(provider: string): Promise<SignedReceipt> | undefined {
    const total = this.received.get(provider) ?? 0
    if (total <= (this.signed.get(provider) ?? 0)) return undefined
    return this.sign(provider)
  }

  /** Signs now the last receipt of every provider with an unsigned tail: at a download's end, so that its sessions and the meta node get them at the same time. */
  finalAll(): void {
    // a failed signature surfaces where the receipt is awaited (`all()`, a session's finish)
    for (const provider of this.received.keys()) void this.final(provider)?.catch(() => {})
  }

  /** The receipt for everything received from `provider`: signed now if part is unsigned, else the latest (undefined: none, or signing failed). */
  async last(provider: string): Promise<SignedReceipt | undefined> {
    return (this.final(provider) ?? this.latest.get(provider))?.catch(() => undefined)
  }

  /** The latest receipt signed for each provider: a consumer hands them to the meta node itself too, so a provider that vanished (a closed donor tab) is still paid. */
  async all(): Promise<SignedReceipt[]> {
    return Promise.all(this.latest.values())
  }

  private sign(provider: string): Promise<SignedReceipt> {
    const { ticket, signer, chainId } = this.init
    const bytes = this.received.get(provider) ?? 0
    this.signed.set(provider, bytes)
    const receipt: Receipt = { ticket: ticket.id, consumer: ticket.consumer, provider, epoch: ticket.epoch, bytes }
    const signed = signer.signTypedData(receiptTypedData(receipt, chainId)).then((signature) => ({ receipt, signature }))
    this.latest.set(provider, signed)
    return signed
  }
}
