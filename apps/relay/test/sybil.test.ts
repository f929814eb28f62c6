import { join } from 'node:path'
import { createKonbiniClient, MetaClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import {
  epochArchive,
  type EpochArchive,
  type Receipt,
  type ReceiptsResponse,
  receiptTypedData,
  type RewardsResponse,
  type SignedReceipt,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { type Address, type Hex, parseEther } from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { devnetChainClients } from './chain.ts'
import { writeRandomFile } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

const EPOCH_SECONDS = 6
const SYBILS = 10
const GIB = 2n ** 30n
/** Small enough that the emission share (not its cap, 10 % of the fee) decides every amount; odd, so each division rounds. */
const EMISSION = 999_999_999_989n
/** What the sybil operator's nodes serve in each epoch, and what another operator's node serves beside them. */
const SERVED = 5n * 1024n * 1024n + 12_347n
const OTHER = 3n * 1024n * 1024n + 5_003n
const sybilKey = generatePrivateKey()
const otherKey = generatePrivateKey()

/**
 * Acceptance 5 of the chain layer on a real chain: one operator runs ten registered nodes. In one
 * epoch one of them serves a consumer; in a later one the same bytes are split over all ten. The
 * consumer's receipts go to the meta node as any provider would hand them in, the epochs settle
 * on chain, and the operator claims: both epochs pay it the same, to the wei, emission included.
 */
describe('sybil nodes of one operator', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  let root: string
  let c: ReturnType<typeof devnetChainClients>
  const sybil = privateKeyToAccount(sybilKey)
  const other = privateKeyToAccount(otherKey)
  const user = privateKeyToAccount(generatePrivateKey())
  const metaUrl = (path: string) => new URL(path, net.file.metaUrls[0]).toString()
  const getJson = async <T>(path: string): Promise<T> => (await (await fetch(metaUrl(path))).json()) as T

  beforeAll(async () => {
    // ten nodes under one operator, the eleventh under another
    const keys = [...Array.from({ length: SYBILS }, () => sybilKey), otherKey]
    net = await startTestNetwork({
      resources: SYBILS + 1,
      chain: true,
      emissionPerEpoch: EMISSION,
      operatorKey: (i) => keys[i],
      metaEnv: { KONBINI_EPOCH_SECONDS: String(EPOCH_SECONDS), KONBINI_EPOCH_GRACE_SECONDS: '3', KONBINI_TICKET_SECONDS: '10' },
    })
    if (net.file.chain === undefined) throw new Error('devnet.json has no chain section')
    c = devnetChainClients(net.file.chain)
    const dev = privateKeyToAccount(net.file.devKey as Hex)
    await c.fund(dev, user, parseEther('2'), parseEther('1'))
    libp2p = await createNodeClientLibp2p()
    const path = join(net.workDir, 'sybil.bin')
    await writeRandomFile(path, 6 * 1024 * 1024 + 1)
    const source = await fsSource(path)
    const put = await createKonbiniClient({ metaUrls: net.file.metaUrls, account: dev, libp2p }).put(source.candidates(), {
      name: source.name,
      size: source.size,
      replicas: SYBILS + 1,
      public: true,
    })
    expect(put.holders).toHaveLength(SYBILS + 1)
    root = put.root
    // what the upload earned is settled and claimed first: the epochs below start from nothing owed
    const afterUpload = (await getJson<{ epoch: number }>('/v1/epoch')).epoch
    await c.settledThrough(afterUpload)
    await claimAll(sybil, afterUpload)
    await claimAll(other, afterUpload)
  }, 180_000)
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test('behavior: the same traffic served by 1 node or split over 10 sybil nodes of one operator earns the same total, to the wei, emission included', async () => {
    const operators = await nodeOperators()
    const sybilPeers = [...operators].filter(([, operator]) => operator === sybil.address.toLowerCase()).map(([peer]) => peer)
    const otherPeer = [...operators].find(([, operator]) => operator === other.address.toLowerCase())?.[0] as string
    expect(sybilPeers).toHaveLength(SYBILS)

    const oneNode = await serveInFreshEpoch([
      [sybilPeers[0] as string, SERVED],
      [otherPeer, OTHER],
    ])
    const split = splitOdd(SERVED, SYBILS)
    expect(split.reduce((a, b) => a + b, 0n)).toBe(SERVED)
    const tenNodes = await serveInFreshEpoch([...sybilPeers.map((peer, i) => [peer, split[i] as bigint] as const), [otherPeer, OTHER]])
    expect(tenNodes.epoch).toBeGreaterThan(oneNode.epoch)

    // the test's own arithmetic (docs/PROTOCOL.md): 80 % of the fee plus the served share of the emission, at most 10 % of the fee
    const total = SERVED + OTHER
    expect(oneNode.earned.get(sybil.address)).toBe(reward(SERVED, total))
    expect(tenNodes.earned.get(sybil.address)).toBe(reward(SERVED, total))
    expect(oneNode.earned.get(other.address)).toBe(reward(OTHER, total))
    expect(tenNodes.earned.get(other.address)).toBe(reward(OTHER, total))
    // the emission share decided it, not its cap, and paying each node on its own would have paid a different amount
    expect((EMISSION * SERVED) / total).toBeLessThan((SERVED * 10n ** 17n) / GIB)
    expect(split.reduce((sum, bytes) => sum + reward(bytes, total), 0n)).not.toBe(reward(SERVED, total))
  }, 180_000)

  /**
   * Early in a fresh epoch, takes a paid ticket as the user, hands in its receipts for `served`
   * (provider → bytes) as a provider would, waits for the epoch to settle and has both operators
   * claim: what each was paid for the epoch, checked against the epoch's archive.
   */
  async function serveInFreshEpoch(served: ReadonlyArray<readonly [string, bigint]>) {
    await vi.waitFor(
      async () => {
        const e = await getJson<{ endsAt: number }>('/v1/epoch')
        expect(e.endsAt - Date.now() / 1000).toBeGreaterThan(EPOCH_SECONDS - 2)
      },
      { timeout: 30_000, interval: 200 },
    )
    const { download } = await new MetaClient({ urls: net.file.metaUrls }).post('providers', { root, consumer: user.address })
    const ticket = download.ticket
    expect(ticket.payer.toLowerCase()).toBe(user.address.toLowerCase())
    const receipts: SignedReceipt[] = []
    for (const [provider, bytes] of served) {
      expect(ticket.providers).toContain(provider)
      const receipt: Receipt = { ticket: ticket.id, consumer: user.address, provider, epoch: ticket.epoch, bytes: Number(bytes) }
      receipts.push({ receipt, signature: await user.signTypedData(receiptTypedData(receipt, net.file.chainId)) })
    }
    const response = await fetch(metaUrl('/v1/receipts'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ receipts }),
    })
    const answer = (await response.json()) as ReceiptsResponse
    expect(answer).toEqual({ accepted: served.length, rejected: [] })

    await c.settledThrough(ticket.epoch)
    // the epoch's archive holds these receipts and nothing else: no other traffic shares its emission
    const archive = await archiveOf(ticket.epoch)
    expect(archive.receipts).toEqual(receipts)
    const earned = new Map<Address, bigint>()
    for (const operator of [sybil, other]) earned.set(operator.address, await claimAll(operator, ticket.epoch))
    return { epoch: ticket.epoch, earned }
  }

  /** Claims all `operator` has earned through `epoch`; what the claim paid. */
  async function claimAll(operator: PrivateKeyAccount, epoch: number): Promise<bigint> {
    const rewards = await vi.waitFor(async () => {
      const r = await getJson<RewardsResponse>(`/v1/rewards/${operator.address}`)
      expect(r.epoch).toBeGreaterThanOrEqual(epoch)
      return r
    })
    const claimed = await c.pub.readContract({ ...c.settlement, functionName: 'claimed', args: [operator.address] })
    if (BigInt(rewards.cumulative) === claimed) return 0n
    const before = await c.balanceOf(operator.address)
    await c.send(operator, { ...c.settlement, functionName: 'claim', args: [operator.address, BigInt(rewards.cumulative), rewards.proof as Hex[]] })
    return (await c.balanceOf(operator.address)) - before
  }

  /** The settled epoch's receipts archive, read through a holder's public gateway (which never earns). */
  async function archiveOf(epoch: number): Promise<EpochArchive> {
    const logs = await c.pub.getContractEvents({ ...c.settlement, eventName: 'ReportSubmitted', fromBlock: 0n })
    const log = logs.find((l) => Number(l.args.epoch) === epoch)
    if (log === undefined) throw new Error(`no report for epoch ${epoch}`)
    const cid = CID.decode(Buffer.from((log.args.archiveCid as Hex).slice(2), 'hex')).toString()
    // holders serve it publicly from their next heartbeat after its placement
    for (const deadline = performance.now() + 30_000; performance.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      for (const node of net.file.nodes) {
        const response = await fetch(new URL(`/ipfs/${cid}`, node.httpUrl))
        if (response.ok) return epochArchive.parse(await response.json())
      }
    }
    throw new Error(`no node serves the archive ${cid}`)
  }

  /** Peer id → operator address, as the nodes' heartbeats registered them with the meta node. */
  async function nodeOperators(): Promise<Map<string, string>> {
    const { nodes } = await getJson<{ nodes: { peerId: string; operator?: string }[] }>('/v1/nodes')
    return new Map(nodes.map((n) => [n.peerId, (n.operator ?? '').toLowerCase()]))
  }
})

/** What an account serving `bytes` of an epoch's `total` counted bytes earns, computed here from the documented formula. */
function reward(bytes: bigint, total: bigint): bigint {
  const fee = (bytes * 10n ** 18n * 80n) / (100n * GIB)
  const share = (EMISSION * bytes) / total
  const cap = (bytes * 10n ** 18n * 10n) / (100n * GIB)
  return fee + (share < cap ? share : cap)
}

/** `total` in `parts` uneven, odd-sized pieces (the last takes the rest). */
function splitOdd(total: bigint, parts: number): bigint[] {
  const out = Array.from({ length: parts - 1 }, (_, i) => total / BigInt(parts) + BigInt(2 * i + 1) * 1_013n)
  return [...out, total - out.reduce((a, b) => a + b, 0n)]
}
