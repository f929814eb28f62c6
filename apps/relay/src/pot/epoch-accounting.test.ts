import { EMPTY_TREE_ROOT } from '@konbini/contracts'
import type { EpochArchive, SignedReceipt } from '@konbini/protocol'
import { describe, expect, test } from 'vitest'
import { accountEpoch } from './epoch-accounting.ts'

const GIB = 2n ** 30n
const PRICE = 10n ** 18n
const EMISSION = 10n * 10n ** 18n
const SIG = `0x${'11'.repeat(65)}`
const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}`
const peer = (n: number) => `12D3KooW${'A'.repeat(40)}${n.toString().padStart(4, '0')}`

/** An archive of one epoch: `traffic` lists (payer, provider peer, bytes); every ticket is the payer's own download. */
function archiveOf(opts: {
  traffic: Array<{ payer: string; provider: string; bytes: bigint; consumer?: string }>
  operators: Map<string, string>
  credit: Map<string, { available: bigint; cap?: bigint }>
}): { archive: EpochArchive; receipts: SignedReceipt[] } {
  const tickets = opts.traffic.map((t, i) => ({
    ticket: {
      id: `0x${(i + 1).toString(16).padStart(64, '0')}`,
      meta: addr(999),
      consumer: t.consumer ?? t.payer,
      payer: t.payer,
      root: 'bafkqaaa',
      providers: [t.provider],
      maxBytes: Number(t.bytes),
      epoch: 1,
      expiresAt: 2_000_000_000,
    },
    signature: SIG,
  }))
  const receipts = opts.traffic.map((t, i) => ({
    receipt: { ticket: tickets[i]?.ticket.id as string, consumer: t.consumer ?? t.payer, provider: t.provider, epoch: 1, bytes: Number(t.bytes) },
    signature: SIG,
  }))
  const archive: EpochArchive = {
    version: 1,
    epoch: 1,
    chainId: 31337,
    settlement: addr(7),
    block: 1,
    price: String(PRICE),
    emission: String(EMISSION),
    previous: { epoch: 0, rewards: [], spends: [] },
    credit: [...opts.credit].map(([payer, c]) => ({ payer, available: String(c.available), cap: String(c.cap ?? 0n) })),
    depositors: [...opts.credit.keys()],
    operators: [...opts.operators].map(([peerId, operator]) => ({ peerId, operator, binding: 'x' })),
    grants: [],
    uploads: [],
    tickets,
    receipts,
  }
  return { archive, receipts }
}

/** The formula of docs/PROTOCOL.md, written out here independently of the code. */
function expectedReward(served: bigint, total: bigint): bigint {
  const fee = (served * PRICE * 80n) / (100n * GIB)
  const share = (EMISSION * served) / total
  const cap = (served * PRICE * 10n) / (100n * GIB)
  return fee + (share < cap ? share : cap)
}

describe('epoch accounting', () => {
  // odd byte counts, so that rounding per node would differ from rounding per account
  const chunks = [
    3n * GIB + 7n,
    5n * GIB + 1n,
    11n * GIB + 3n,
    2n * GIB + 9n,
    7n * GIB + 5n,
    13n * GIB + 1n,
    1n * GIB + 3n,
    4n * GIB + 7n,
    6n * GIB + 1n,
    9n * GIB + 9n,
  ]
  const payer = addr(1)
  const operator = addr(100)
  const other = addr(200)
  const otherBytes = 300n * GIB + 12_345n

  test('behavior: the same traffic served by 1 node or split over 10 sybil nodes of one operator earns the same total, to the wei, emission included', () => {
    const total = chunks.reduce((a, b) => a + b, 0n)
    const credit = new Map([[payer, { available: 10n ** 30n }]])
    // another operator's traffic too, so the emission share (not its cap) binds for the first
    const one = archiveOf({
      traffic: [
        { payer, provider: peer(1), bytes: total },
        { payer, provider: peer(50), bytes: otherBytes },
      ],
      operators: new Map([
        [peer(1), operator],
        [peer(50), other],
      ]),
      credit,
    })
    const ten = archiveOf({
      traffic: [...chunks.map((bytes, i) => ({ payer, provider: peer(i + 1), bytes })), { payer, provider: peer(50), bytes: otherBytes }],
      operators: new Map([...chunks.map((_, i) => [peer(i + 1), operator] as [string, string]), [peer(50), other]]),
      credit,
    })
    const a = accountEpoch(one.archive, one.receipts)
    const b = accountEpoch(ten.archive, ten.receipts)
    expect(b.earned.get(operator)).toBe(a.earned.get(operator))
    expect(a.earned.get(operator)).toBe(expectedReward(total, total + otherBytes))
    expect(b.rewardRoot).toBe(a.rewardRoot)
    expect(b.totalRewards).toBe(a.totalRewards)
    // the emission share, not the 10 % cap, decided this amount
    const fee = (total * PRICE * 80n) / (100n * GIB)
    expect((a.earned.get(operator) as bigint) - fee).toBe((EMISSION * total) / (total + otherBytes))
  })

  test('behavior: buying traffic from yourself never pays: the only paid traffic of an epoch earns its provider less than its payer spent', () => {
    const bytes = 123n * 1024n * 1024n + 17n
    const self = addr(300)
    const { archive, receipts } = archiveOf({
      traffic: [{ payer: self, provider: peer(1), bytes }],
      operators: new Map([[peer(1), self]]),
      credit: new Map([[self, { available: 10n ** 24n }]]),
    })
    const r = accountEpoch(archive, receipts)
    const spent = r.spent.get(self) as bigint
    const earned = r.earned.get(self) as bigint
    expect(spent).toBe((bytes * PRICE) / GIB)
    expect(earned).toBe(expectedReward(bytes, bytes))
    expect(earned).toBeLessThan(spent)
    expect(earned).toBeLessThanOrEqual((spent * 90n) / 100n)
  })

  test("error: traffic beyond the payer's credit, or beyond an owner's cap for others' downloads, is not counted", () => {
    const owner = addr(400)
    const viewer = addr(401)
    const rich = addr(402)
    const credit = new Map([
      [payer, { available: PRICE / 4n }], // a quarter GiB
      [owner, { available: 10n ** 24n, cap: PRICE / 8n }], // pays at most an eighth of a GiB for others
      [rich, { available: 10n ** 24n }],
    ])
    const { archive, receipts } = archiveOf({
      traffic: [
        { payer, provider: peer(1), bytes: GIB },
        { payer: owner, consumer: viewer, provider: peer(1), bytes: GIB },
        { payer: rich, provider: peer(2), bytes: GIB / 2n },
      ],
      operators: new Map([
        [peer(1), operator],
        [peer(2), other],
      ]),
      credit,
    })
    const r = accountEpoch(archive, receipts)
    expect(r.counted.map((c) => c.bytes)).toEqual([GIB / 4n, GIB / 8n, GIB / 2n])
    expect(r.spent.get(payer)).toBe(PRICE / 4n)
    expect(r.spent.get(owner)).toBe(PRICE / 8n)
    // the totals the contract checks: rewards never beyond what was spent plus the epoch's emission
    expect(r.totalRewards).toBeLessThanOrEqual(r.totalSpent + EMISSION)
  })

  test("behavior: a node whose operator key a wallet granted earns for the wallet, and a granted session key's download is the wallet's own spending (no owner cap)", () => {
    const wallet = addr(500)
    const tabKey = addr(501)
    const viewerKey = addr(502)
    const { archive, receipts } = archiveOf({
      traffic: [{ payer: wallet, consumer: viewerKey, provider: peer(1), bytes: GIB }],
      operators: new Map([[peer(1), tabKey]]),
      credit: new Map([[wallet, { available: 10n ** 24n, cap: 0n }]]),
    })
    const grants = new Map([
      [tabKey, wallet],
      [viewerKey, wallet],
    ])
    const granted = accountEpoch(archive, receipts, grants)
    expect(granted.earned.get(wallet)).toBe(expectedReward(GIB, GIB))
    expect(granted.earned.has(tabKey)).toBe(false)
    expect(granted.spent.get(wallet)).toBe(PRICE)
    // without the grants, the viewer's traffic is someone else's download under a cap of 0: not counted
    expect(accountEpoch(archive, receipts).counted).toEqual([])
  })

  test("behavior: an epoch with no traffic keeps the contracts' empty reward root and gives every depositor a spend leaf", () => {
    const { archive } = archiveOf({ traffic: [], operators: new Map(), credit: new Map([[payer, { available: 5n }]]) })
    const r = accountEpoch(archive, [])
    expect(r.rewardRoot).toBe(EMPTY_TREE_ROOT)
    expect(r.spends.get(payer)).toBe(0n)
    expect(r.spendRoot).not.toBe(EMPTY_TREE_ROOT)
  })
})
