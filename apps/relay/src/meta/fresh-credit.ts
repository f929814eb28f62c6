import type { CreditState } from '../pot/settlement-chain.ts'

/** How long a payer's credit, read from the chain, is reused when issuing tickets (ms). */
export const CREDIT_FRESH_MS = 5000
/** Most payers remembered at once. */
const MAX_PAYERS = 10_000

/**
 * Payers' on-chain credit for ticket issuance, read once per `freshMs` per payer instead of once
 * per ticket (a busy meta node would otherwise make an RPC call for every download, and real RPC
 * endpoints are rate-limited; on the devnet it was 4 of a paid open's 10 ms). Only credit with
 * something left is reused: a payer at zero is read again every time, so a deposit counts at once.
 * A withdrawal is seen up to `freshMs` late — as a withdrawal racing a ticket always could be:
 * an epoch counts a payer's spending only within its credit as the chain has it then.
 */
export class FreshCredit {
  private readonly read: (account: string) => Promise<CreditState>
  private readonly freshMs: number
  private readonly now: () => number
  private readonly known = new Map<string, { at: number; state: Promise<CreditState> }>()

  constructor(read: (account: string) => Promise<CreditState>, freshMs = CREDIT_FRESH_MS, now = () => performance.now()) {
    this.read = read
    this.freshMs = freshMs
    this.now = now
  }

  /** The payer's credit, from the chain unless a read with credit left is at most `freshMs` old (or under way). */
  get(account: string): Promise<CreditState> {
    const key = account.toLowerCase()
    const now = this.now()
    const cached = this.known.get(key)
    if (cached !== undefined && now - cached.at <= this.freshMs) return cached.state
    if (this.known.size >= MAX_PAYERS) this.known.clear()
    const state = this.read(account)
    this.known.set(key, { at: now, state })
    // kept only while it has something to spend (and only if the read succeeded)
    state.then(
      (s) => {
        if (s.deposited - s.withdrawn - s.pending <= 0n && this.known.get(key)?.state === state) this.known.delete(key)
      },
      () => {
        if (this.known.get(key)?.state === state) this.known.delete(key)
      },
    )
    return state
  }
}
