import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createKonbiniClient, type KonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import { creditAbi, konbiniTokenAbi, settlementAbi } from '@konbini/contracts'
import { devnetFile, epochArchive, type EpochArchive, type RewardsResponse, type SpendResponse } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { type Address, type Hex, parseEther } from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { writeRandomFile } from './files.ts'
import { type ContractCall, devnetChainClients } from './chain.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

const EPOCH_SECONDS = 6
const GIB = 2n ** 30n
const PRICE = 10n ** 18n
const CREDIT = parseEther('10')

/**
 * Acceptance 1 of the chain layer, end to end on a devnet with its chain: a user prepays credit,
 * downloads over HTTP and over libp2p (receipts on both paths), the epoch's report lands on chain
 * with an archive on the network that justifies it, the serving operators claim, the payer
 * withdraws what it did not spend — every balance as this test computes it from the receipts.
 */
describe('Proof of Traffic settled on chain', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  let client: KonbiniClient
  let chain: NonNullable<TestNetwork['file']['chain']>
  const user = privateKeyToAccount(generatePrivateKey())
  let c: ReturnType<typeof devnetChainClients>
  const pub = () => c.pub
  const send = (by: PrivateKeyAccount, call: ContractCall) => c.send(by, call)
  const balanceOf = (address: Address) => c.balanceOf(address)
  const meta = async <T>(path: string): Promise<T> => (await (await fetch(new URL(path, net.file.metaUrls[0]))).json()) as T

  beforeAll(async () => {
    net = await startTestNetwork({
      resources: 2,
      chain: true,
      metaEnv: { KONBINI_EPOCH_SECONDS: String(EPOCH_SECONDS), KONBINI_EPOCH_GRACE_SECONDS: '3', KONBINI_TICKET_SECONDS: '10' },
      resourceEnv: { KONBINI_RECEIPT_FORWARD_MS: '300' },
    })
    const file = devnetFile.parse(JSON.parse(await readFile(join(net.dataDir, 'devnet.json'), 'utf8')))
    if (file.chain === undefined) throw new Error('devnet.json has no chain section')
    chain = file.chain
    c = devnetChainClients(chain)
    // the user: gas, tokens, then 10 KBT of credit
    await c.fund(privateKeyToAccount(net.file.devKey as Hex), user, CREDIT, CREDIT)
    libp2p = await createNodeClientLibp2p()
    client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: user, libp2p })
  })
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test('behavior: an upload (each replica) and downloads over HTTP and libp2p are receipted, settled, claimed and withdrawn to the wei', async () => {
    const path = join(net.workDir, 'paid.bin')
    await writeRandomFile(path, 20 * 1024 * 1024 + 12_345)
    const source = await fsSource(path)
    const uploaded = await client.put(source.candidates(), { name: source.name, size: source.size, replicas: 2 })
    const { root } = uploaded
    const ticketEpochs = new Set<number>()
    for (const transport of ['http', 'libp2p'] as const) {
      const download = await client.open(root, { transport })
      ticketEpochs.add(download.ticket.ticket.epoch)
      expect(download.ticket.ticket.payer.toLowerCase()).toBe(user.address.toLowerCase())
      const chunks: Uint8Array[] = []
      if (download.entry.type !== 'file') throw new Error('not a file')
      for await (const chunk of download.entry.content({ blockReadConcurrency: download.readAhead })) chunks.push(chunk)
      await download.finish()
      // on a slow machine the download may have renewed its ticket (10 s here): each one's epoch
      for (const grant of download.pool.lease.all()) ticketEpochs.add(grant.ticket.ticket.epoch)
      expect(chunks.reduce((n, c) => n + c.byteLength, 0)).toBe(source.size)
    }

    // the reports of those epochs land on chain
    const last = Math.max(...ticketEpochs)
    const settlement = { address: chain.contracts.settlement as Address, abi: settlementAbi } as const
    await vi.waitFor(async () => expect(Number(await pub().readContract({ ...settlement, functionName: 'lastEpoch' }))).toBeGreaterThanOrEqual(last), {
      timeout: 60_000,
      interval: 500,
    })

    // the archives, fetched from the network by CID, hold the receipts that justify each report
    const logs = await pub().getContractEvents({ ...settlement, eventName: 'ReportSubmitted', fromBlock: 0n })
    const served = new Map<string, bigint>()
    let spent = 0n
    let receiptedBytes = 0n
    const uploadReceipted = new Map<string, bigint>()
    const operators = await operatorsOf(net)
    const emission = await pub().readContract({ ...settlement, functionName: 'emissionPerEpoch' })
    for (const log of logs) {
      const epoch = Number(log.args.epoch)
      const cid = cidFromHex(log.args.archiveCid as Hex)
      const archive = await fetchArchive(client, cid)
      expect(archive.epoch).toBe(epoch)
      // the test's own arithmetic, from the receipts (each is the latest per ticket and provider)
      const perAccount = new Map<string, bigint>()
      let total = 0n
      for (const { receipt } of archive.receipts) {
        const operator = operators.get(receipt.provider)
        expect(operator).toBeDefined()
        perAccount.set(operator as string, (perAccount.get(operator as string) ?? 0n) + BigInt(receipt.bytes))
        total += BigInt(receipt.bytes)
      }
      const uploadReceipts = archive.receipts.filter((r) => r.receipt.ticket === uploaded.ticketId)
      uploadReceipts.forEach((r) => {
        uploadReceipted.set(r.receipt.provider, BigInt(r.receipt.bytes))
      })
      receiptedBytes += total - uploadReceipts.reduce((n, r) => n + BigInt(r.receipt.bytes), 0n)
      spent += (total * PRICE) / GIB
      for (const [account, bytes] of perAccount) {
        const fee = (bytes * PRICE * 80n) / (100n * GIB)
        const share = (emission * bytes) / total
        const cap = (bytes * PRICE * 10n) / (100n * GIB)
        served.set(account, (served.get(account) ?? 0n) + fee + (share < cap ? share : cap))
      }
    }
    // the upload was paid too: each replica's received bytes, receipted by the owner
    expect([...uploadReceipted.keys()].sort()).toEqual([...uploaded.holders].sort())
    for (const bytes of uploadReceipted.values()) expect(bytes).toBe(BigInt(uploaded.sentBytes))
    // every byte of both downloads was receipted, and what was sent twice (hedged blocks on a slow, loaded machine) too
    expect(receiptedBytes).toBeGreaterThanOrEqual(2n * BigInt(source.size))
    expect(receiptedBytes).toBeLessThan((2n * BigInt(source.size) * 150n) / 100n)

    // each serving operator claims exactly what the test computed
    for (const [account, expected] of served) {
      const rewards = await vi.waitFor(async () => {
        const r = await meta<RewardsResponse>(`/v1/rewards/${account}`)
        expect(r.epoch).toBeGreaterThanOrEqual(last)
        return r
      })
      expect(BigInt(rewards.cumulative)).toBe(expected)
      const operator = privateKeyToAccount(operatorKeys.get(account) as Hex)
      const before = await balanceOf(account as Address)
      await send(operator, { ...settlement, functionName: 'claim', args: [account as Address, BigInt(rewards.cumulative), rewards.proof as Hex[]] })
      expect((await balanceOf(account as Address)) - before).toBe(expected)
    }

    // the payer withdraws its unspent credit once the delay has passed
    const credit = { address: chain.contracts.credit as Address, abi: creditAbi } as const
    const unspent = CREDIT - spent
    await send(user, { ...credit, functionName: 'requestWithdrawal', args: [unspent] })
    const [, notBefore] = await pub().readContract({ ...credit, functionName: 'pendingWithdrawal', args: [user.address] })
    await vi.waitFor(async () => expect(await pub().readContract({ ...settlement, functionName: 'lastEpoch' })).toBeGreaterThanOrEqual(notBefore), {
      timeout: 60_000,
      interval: 500,
    })
    const spend = await meta<SpendResponse>(`/v1/credit/${user.address}`)
    expect(BigInt(spend.cumulativeSpent)).toBe(spent)
    const before = await balanceOf(user.address)
    await send(user, { ...credit, functionName: 'withdraw', args: [BigInt(spend.cumulativeSpent), spend.proof as Hex[]] })
    expect((await balanceOf(user.address)) - before).toBe(unspent)
  }, 240_000)

  test('behavior: a download outliving its ticket goes on under renewed ones, and every ticket is settled with its receipts', async () => {
    await c.fund(privateKeyToAccount(net.file.devKey as Hex), user, CREDIT, CREDIT)
    const path = join(net.workDir, 'slow.bin')
    const blocks = 14
    await writeRandomFile(path, blocks * 1024 * 1024)
    const source = await fsSource(path)
    const { root } = await client.put(source.candidates(), { name: source.name, size: source.size, replicas: 2 })
    const download = await client.open(root)
    // a slow reader (a video player, a phone): one 1 MiB block a second, longer than a ticket's 10 s
    // (block by block through the pool: the exporter would read ahead)
    const links = dagPb.decode(await download.pool.get(CID.parse(root))).Links
    expect(links.length).toBe(blocks)
    let bytes = 0
    for (const link of links) {
      bytes += (await download.pool.get(link.Hash)).byteLength
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    await download.finish()
    expect(bytes).toBe(source.size)
    const grants = download.pool.lease.all()
    expect(grants.length).toBeGreaterThanOrEqual(2)
    expect(new Set(grants.map((g) => g.ticket.ticket.id)).size).toBe(grants.length)
    // every ticket's receipts are in its epoch's archive: together, every byte of the file
    const settlement = { address: chain.contracts.settlement as Address, abi: settlementAbi } as const
    const last = Math.max(...grants.map((g) => g.ticket.ticket.epoch))
    await vi.waitFor(async () => expect(Number(await pub().readContract({ ...settlement, functionName: 'lastEpoch' }))).toBeGreaterThanOrEqual(last), {
      timeout: 90_000,
      interval: 500,
    })
    const ids = new Set(grants.map((g) => g.ticket.ticket.id))
    const perTicket = new Map<string, number>()
    const logs = await pub().getContractEvents({ ...settlement, eventName: 'ReportSubmitted', fromBlock: 0n })
    for (const log of logs.filter((l) => grants.some((g) => g.ticket.ticket.epoch === Number(l.args.epoch)))) {
      const archive = await fetchArchive(client, cidFromHex(log.args.archiveCid as Hex))
      for (const { receipt } of archive.receipts)
        if (ids.has(receipt.ticket)) {
          expect(receipt.epoch).toBe(archive.epoch)
          perTicket.set(receipt.ticket, (perTicket.get(receipt.ticket) ?? 0) + receipt.bytes)
        }
    }
    const receipted = [...perTicket.values()].reduce((n, b) => n + b, 0)
    expect(perTicket.size).toBeGreaterThanOrEqual(2)
    expect(receipted).toBeGreaterThanOrEqual(source.size)
    expect(receipted).toBeLessThan(source.size * 1.5)
  }, 180_000)

  test("behavior: kill -9 of the meta node mid-epoch loses no receipt: its epoch's report counts the traffic received before the kill", async () => {
    // its own credit (the test before withdrew what was left)
    await c.fund(privateKeyToAccount(net.file.devKey as Hex), user, CREDIT, CREDIT)
    const path = join(net.workDir, 'killed.bin')
    await writeRandomFile(path, 6 * 1024 * 1024 + 77)
    const source = await fsSource(path)
    const { root } = await client.put(source.candidates(), { name: source.name, size: source.size, replicas: 2 })
    // start early in an epoch, so that the kill comes before it ends
    await vi.waitFor(
      async () => {
        const e = await meta<{ endsAt: number }>('/v1/epoch')
        expect(e.endsAt - Date.now() / 1000).toBeGreaterThan(EPOCH_SECONDS - 2)
      },
      { timeout: 30_000, interval: 200 },
    )
    const download = await client.open(root)
    const ticket = download.ticket.ticket
    if (download.entry.type !== 'file') throw new Error('not a file')
    for await (const _ of download.entry.content({ blockReadConcurrency: download.readAhead })) {
    }
    await download.finish()
    // the meta node has the receipts (the consumer handed in its copy at finish), and the epoch is still open
    const epochNow = await meta<{ epoch: number; endsAt: number }>('/v1/epoch')
    const meta0 = net.devnet.metas[0]
    if (meta0 === undefined) throw new Error('no meta process')
    await meta0.kill('SIGKILL')
    await meta0.start()
    expect(epochNow.epoch).toBe(ticket.epoch)
    const settlement = { address: chain.contracts.settlement as Address, abi: settlementAbi } as const
    await vi.waitFor(async () => expect(Number(await pub().readContract({ ...settlement, functionName: 'lastEpoch' }))).toBeGreaterThanOrEqual(ticket.epoch), {
      timeout: 60_000,
      interval: 500,
    })
    const log = (await pub().getContractEvents({ ...settlement, eventName: 'ReportSubmitted', fromBlock: 0n })).find(
      (l) => Number(l.args.epoch) === ticket.epoch,
    )
    if (log === undefined) throw new Error(`no report for epoch ${ticket.epoch}`)
    const archive = await fetchArchive(client, cidFromHex(log.args.archiveCid as Hex))
    const bytes = archive.receipts.filter((r) => r.receipt.ticket === ticket.id).reduce((n, r) => n + r.receipt.bytes, 0)
    expect(bytes).toBeGreaterThanOrEqual(source.size)
  }, 120_000)

  test("behavior: self-dealing never pays: a node's operator that buys credit and downloads from its own node, the epoch's only paid traffic, ends with fewer tokens than it started", async () => {
    const operators = await operatorsOf(net)
    const [selfPeer, selfAddress] = [...operators][0] as [string, string]
    const self = privateKeyToAccount(operatorKeys.get(selfAddress) as Hex)
    const dev = privateKeyToAccount(net.file.devKey as Hex)
    const deposit = parseEther('1')
    const settlement = { address: chain.contracts.settlement as Address, abi: settlementAbi } as const
    const credit = { address: chain.contracts.credit as Address, abi: creditAbi } as const
    const lastEpoch = async () => Number(await pub().readContract({ ...settlement, functionName: 'lastEpoch' }))
    const claimAll = async (through: number) => {
      const rewards = await vi.waitFor(async () => {
        const r = await meta<RewardsResponse>(`/v1/rewards/${self.address}`)
        expect(r.epoch).toBeGreaterThanOrEqual(through)
        return r
      })
      const claimed = await pub().readContract({ ...settlement, functionName: 'claimed', args: [self.address] })
      if (BigInt(rewards.cumulative) > claimed)
        await send(self, { ...settlement, functionName: 'claim', args: [self.address, BigInt(rewards.cumulative), rewards.proof as Hex[]] })
    }
    await send(dev, { address: chain.contracts.token as Address, abi: konbiniTokenAbi, functionName: 'transfer', args: [self.address, deposit] })
    const path = join(net.workDir, 'self.bin')
    await writeRandomFile(path, 8 * 1024 * 1024 + 3)
    const source = await fsSource(path)
    // public: the operator downloads the dev account's file
    const { root } = await createKonbiniClient({ metaUrls: net.file.metaUrls, account: dev, libp2p }).put(source.candidates(), {
      name: source.name,
      size: source.size,
      replicas: 2,
      public: true,
    })
    // everything the operator earned before (earlier tests, storing this upload) settled and claimed first
    const afterUpload = (await meta<{ epoch: number }>('/v1/epoch')).epoch
    await vi.waitFor(async () => expect(await lastEpoch()).toBeGreaterThanOrEqual(afterUpload), { timeout: 60_000, interval: 500 })
    await claimAll(afterUpload)
    const start = await balanceOf(self.address)
    await send(self, {
      address: chain.contracts.token as Address,
      abi: konbiniTokenAbi,
      functionName: 'approve',
      args: [chain.contracts.credit as Address, deposit],
    })
    await send(self, { ...credit, functionName: 'deposit', args: [deposit] })
    // early in a fresh epoch: nothing else is paid in it
    await vi.waitFor(
      async () => {
        const e = await meta<{ endsAt: number }>('/v1/epoch')
        expect(e.endsAt - Date.now() / 1000).toBeGreaterThan(EPOCH_SECONDS - 2)
      },
      { timeout: 30_000, interval: 200 },
    )
    const download = await createKonbiniClient({ metaUrls: net.file.metaUrls, account: self, libp2p }).open(root, { only: [selfPeer] })
    expect(download.ticket.ticket.payer.toLowerCase()).toBe(self.address.toLowerCase())
    if (download.entry.type !== 'file') throw new Error('not a file')
    for await (const _ of download.entry.content({ blockReadConcurrency: download.readAhead })) {
    }
    await download.finish()
    const epoch = download.ticket.ticket.epoch
    await vi.waitFor(async () => expect(await lastEpoch()).toBeGreaterThanOrEqual(epoch), { timeout: 60_000, interval: 500 })
    const log = (await pub().getContractEvents({ ...settlement, eventName: 'ReportSubmitted', fromBlock: 0n })).find((l) => Number(l.args.epoch) === epoch)
    if (log === undefined) throw new Error(`no report for epoch ${epoch}`)
    const archive = await fetchArchive(client, cidFromHex(log.args.archiveCid as Hex))
    // the epoch's only paid traffic: the operator's own download from its own node
    expect(new Set(archive.receipts.map((r) => r.receipt.consumer.toLowerCase()))).toEqual(new Set([self.address.toLowerCase()]))
    expect(new Set(archive.receipts.map((r) => r.receipt.provider))).toEqual(new Set([selfPeer]))
    // it claims everything it earned, and takes back all it did not spend
    await claimAll(epoch)
    const spent = BigInt((await meta<SpendResponse>(`/v1/credit/${self.address}`)).cumulativeSpent)
    expect(spent).toBeGreaterThan(0n)
    await send(self, { ...credit, functionName: 'requestWithdrawal', args: [deposit - spent] })
    const [, notBefore] = await pub().readContract({ ...credit, functionName: 'pendingWithdrawal', args: [self.address] })
    await vi.waitFor(async () => expect(await lastEpoch()).toBeGreaterThanOrEqual(Number(notBefore)), { timeout: 60_000, interval: 500 })
    const spend = await meta<SpendResponse>(`/v1/credit/${self.address}`)
    await send(self, { ...credit, functionName: 'withdraw', args: [BigInt(spend.cumulativeSpent), spend.proof as Hex[]] })
    const end = await balanceOf(self.address)
    expect(end).toBeLessThan(start)
    // by at least 10 % of what its traffic cost (its fee share is 80 %, the emission at most 10 %)
    expect(start - end).toBeGreaterThanOrEqual(spent / 10n)
  }, 180_000)

  const operatorKeys = new Map<string, string>()
  async function operatorsOf(n: TestNetwork): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const [i, node] of n.file.nodes.entries()) {
      const key = (await readFile(join(n.dataDir, `node${i + 1}`, 'operator.key'), 'utf8')).trim()
      const address = privateKeyToAccount(key as Hex).address.toLowerCase()
      operatorKeys.set(address, key)
      out.set(node.peerId, address)
    }
    return out
  }
})

async function fetchArchive(client: KonbiniClient, cid: string): Promise<EpochArchive> {
  const download = await client.open(cid)
  const chunks: Uint8Array[] = []
  if (download.entry.type !== 'file' && download.entry.type !== 'raw') throw new Error('the archive is not a file')
  for await (const chunk of download.entry.content()) chunks.push(chunk)
  await download.finish()
  return epochArchive.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')))
}

function cidFromHex(hex: Hex): string {
  // the report holds the CID's binary form
  return CID.decode(Buffer.from(hex.slice(2), 'hex')).toString()
}
