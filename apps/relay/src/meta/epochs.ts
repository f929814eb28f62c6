import { CID } from 'multiformats/cid'
import {
  type EpochArchive,
  type EpochReport,
  epochReportTypedData,
  PRICE_PER_GIB,
  paidTicketView,
  type SignedDownloadTicket,
  type SignedUploadTicket,
} from '@konbini/protocol'
import type { Logger } from 'pino'
import { bytesToHex, concat, type Hex } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { accountArchive } from '../pot/recompute-report.ts'
import type { CreditState, SettlementChain } from '../pot/settlement-chain.ts'
import type { EpochRow, PotStore } from './db/pot-store.ts'
import { FreshCredit } from './fresh-credit.ts'

/** Pause after a failed step (a report short of its quorum, the chain unreachable). */
const RETRY_MS = 3000

/** A closed epoch's report with the cumulative tables it commits to (as stored and served). */
export interface StoredReport {
  report: { epoch: number; rewardRoot: Hex; spendRoot: Hex; totalRewards: string; totalSpent: string; archiveCid: string }
  rewards: Array<[string, string]>
  spends: Array<[string, string]>
  earned: Array<[string, string]>
  spent: Array<[string, string]>
}

export interface EpochClockInit {
  pot: PotStore
  chain: SettlementChain
  account: PrivateKeyAccount
  epochSeconds: number
  graceSeconds: number
  /** A download ticket's lifetime: the epoch stays open for receipts until the last ticket it issued has expired. */
  ticketSeconds: number
  /** Stores the archive on the network; resolves with its CID. */
  publish(archive: Uint8Array, epoch: number): Promise<string>
  /** Asks the other meta nodes to co-sign (each recomputes the report first); resolves with the signatures it got. */
  gatherSignatures(report: StoredReport['report'], needed: number): Promise<Array<{ signer: string; signature: Hex }>>
  log: Logger
  now(): number
}

/**
 * The meta node's epochs: a new one opens every `epochSeconds` (tickets name it); an epoch closes
 * once the last download ticket it issued has expired, plus `graceSeconds` (receipts handed in
 * late still count: every receipt of a ticket lands in the ticket's epoch), its receipts are verified and
 * counted, its archive is published and its report submitted on chain — retried until it lands.
 * Every step is in the database first, so a restart resumes where it stopped.
 */
export class EpochClock {
  private readonly init: EpochClockInit
  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<void> = Promise.resolve()
  private retryAt = 0
  private readonly fresh: FreshCredit

  constructor(init: EpochClockInit) {
    this.init = init
    this.fresh = new FreshCredit((account) => init.chain.credit(account))
  }

  get chainId(): number {
    return this.init.chain.chainId
  }

  get chain(): SettlementChain {
    return this.init.chain
  }

  /** A payer's credit on chain, as ticket issuance sees it (a read with credit left is reused for `CREDIT_FRESH_MS`). */
  credit(account: string): Promise<CreditState> {
    return this.fresh.get(account)
  }

  async spendCap(owner: string): Promise<bigint> {
    return (await this.init.chain.credit(owner)).cap
  }

  async start(intervalMs = 1000): Promise<void> {
    await this.tick()
    this.timer = setInterval(() => void this.tick(), intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.running
  }

  /** The epoch new tickets belong to. */
  async current(): Promise<EpochRow> {
    const open = await this.init.pot.openEpoch()
    if (open === undefined) throw new Error('no open epoch')
    return open
  }

  /** Runs one step of the clock now (serialized with the timer's). */
  tick(): Promise<void> {
    this.running = this.running.then(async () => {
      if (performance.now() < this.retryAt) return
      try {
        await this.step()
      } catch (err) {
        // a missing quorum, a chain or network hiccup: the same step again a little later
        this.retryAt = performance.now() + RETRY_MS
        this.init.log.warn({ err }, 'epoch step failed; retrying')
      }
    })
    return this.running
  }

  private async step(): Promise<void> {
    const { pot, chain, epochSeconds, graceSeconds, ticketSeconds } = this.init
    const now = this.init.now()
    const latest = await pot.latestEpoch()
    if (latest === undefined) {
      const first = (await chain.lastEpoch()) + 1
      await pot.startEpoch(first, now, now + epochSeconds)
    } else if (now >= latest.endsAt) {
      // after a long stop the next epoch starts now, not in the past
      const startsAt = now - latest.endsAt < epochSeconds ? latest.endsAt : now
      await pot.startEpoch(latest.epoch + 1, startsAt, startsAt + epochSeconds)
    }
    for (const open of await pot.epochsIn('open')) {
      if (now < open.endsAt + ticketSeconds + graceSeconds) break
      await this.close(open)
    }
    for (const closed of await pot.epochsIn('closed')) await this.submit(closed)
  }

  private async close(row: EpochRow): Promise<void> {
    const { pot, chain } = this.init
    const block = await chain.blockNumber()
    const before = await pot.getEpoch(row.epoch - 1)
    const previous: StoredReport | undefined = before?.report ? JSON.parse(before.report) : undefined
    const receipts = await pot.receiptsOf(row.epoch)
    const tickets = await pot.ticketsOf(row.epoch)
    const spentBefore = new Map(previous?.spends ?? [])
    const payers = [...new Set(tickets.map((t) => t.ticket.payer.toLowerCase()))].sort()
    const credit = await Promise.all(
      payers.map(async (payer) => {
        const c = await chain.credit(payer, block)
        const used = c.withdrawn + c.pending + BigInt(spentBefore.get(payer) ?? '0')
        return { payer, available: String(c.deposited > used ? c.deposited - used : 0n), cap: String(c.cap) }
      }),
    )
    const providers = [...new Set(receipts.map((r) => r.receipt.provider))].sort()
    const operators = await pot.bindingsOf(providers)
    const archive: EpochArchive = {
      version: 1,
      epoch: row.epoch,
      chainId: chain.chainId,
      settlement: chain.settlement,
      block: Number(block),
      price: String(PRICE_PER_GIB),
      emission: String(await chain.emission()),
      previous: { epoch: row.epoch - 1, rewards: previous?.rewards ?? [], spends: previous?.spends ?? [] },
      credit,
      depositors: await chain.depositors(block),
      operators,
      // grants of the providers' operators (they earn for a wallet) and of the tickets' consumers (a wallet pays for them)
      grants: await pot.grantsOf([...new Set([...operators.map((o) => o.operator), ...tickets.map((t) => paidTicketView(t).consumer)])], row.endsAt),
      tickets: tickets.filter((t): t is SignedDownloadTicket => !('owner' in t.ticket)),
      uploads: tickets.filter((t): t is SignedUploadTicket => 'owner' in t.ticket),
      receipts,
    }
    const counted = await accountArchive(archive, chain)
    if (counted.rejected > 0) this.init.log.warn({ epoch: row.epoch, rejected: counted.rejected }, 'receipts not counted')
    const archiveCid = await this.init.publish(new TextEncoder().encode(JSON.stringify(archive)), row.epoch)
    const stored: StoredReport = {
      report: {
        epoch: row.epoch,
        rewardRoot: counted.rewardRoot,
        spendRoot: counted.spendRoot,
        totalRewards: String(counted.totalRewards),
        totalSpent: String(counted.totalSpent),
        archiveCid,
      },
      rewards: entries(counted.rewards),
      spends: entries(counted.spends),
      earned: entries(counted.earned),
      spent: entries(counted.spent),
    }
    await pot.closeEpoch(row.epoch, JSON.stringify(stored), JSON.stringify(archive), archiveCid)
    this.init.log.info({ epoch: row.epoch, receipts: receipts.length, counted: counted.counted.length, archiveCid }, 'epoch closed')
  }

  private async submit(row: EpochRow): Promise<void> {
    const { chain, account, pot } = this.init
    const stored = JSON.parse(row.report as string) as StoredReport
    const onChain = await chain.lastEpoch()
    // an earlier epoch must land first; the chain's order is the epochs' order
    if (row.epoch !== onChain + 1) return
    const report = toChainReport(stored)
    const own = {
      signer: account.address.toLowerCase(),
      signature: await account.signTypedData(epochReportTypedData(report, chain.chainId, chain.settlement as Hex)),
    }
    const { quorum } = await chain.state()
    const others = quorum > 1 ? await this.init.gatherSignatures(stored.report, quorum - 1) : []
    const signatures = [own, ...others.filter((o) => o.signer.toLowerCase() !== own.signer)].slice(0, Math.max(quorum, 1))
    // a report short of its quorum waits: the next step asks again
    if (signatures.length < quorum) throw new Error(`epoch ${row.epoch}: ${signatures.length} of ${quorum} signatures`)
    // the contract takes them packed, signers in ascending order
    signatures.sort((a, b) => (a.signer.toLowerCase() < b.signer.toLowerCase() ? -1 : 1))
    const packed = concat(signatures.map((s) => s.signature))
    const { txHash, gasUsed } = await chain.submit(report, packed)
    await pot.settleEpoch(row.epoch, txHash, Number(gasUsed))
    this.init.log.info({ epoch: row.epoch, txHash, gasUsed: Number(gasUsed) }, 'epoch report settled on chain')
  }
}

/** The report as the contract takes it (the archive's CID as its binary form). */
export function toChainReport(stored: StoredReport): EpochReport {
  const r = stored.report
  return {
    epoch: BigInt(r.epoch),
    rewardRoot: r.rewardRoot,
    spendRoot: r.spendRoot,
    totalRewards: BigInt(r.totalRewards),
    totalSpent: BigInt(r.totalSpent),
    archiveCid: bytesToHex(CID.parse(r.archiveCid).bytes),
  }
}

function entries(amounts: Map<string, bigint>): Array<[string, string]> {
  return [...amounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([account, amount]) => [account, String(amount)])
}
