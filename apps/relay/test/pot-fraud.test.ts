import { readFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { createKonbiniClient, MetaClient, openDownload } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import {
  type DownloadTicket,
  type EpochReport,
  epochReportTypedData,
  GIB,
  MAX_UNSIGNED_BYTES,
  PRICE_PER_GIB,
  type Receipt,
  type ReceiptsResponse,
  receiptTypedData,
  type RewardsResponse,
  type SignedReceipt,
  RECEIPT_HEADER,
  type SpendResponse,
  TICKET_HEADER,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { type Hex, parseEther } from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { writeRandomFile } from './files.ts'
import { type ContractCall, devnetChainClients } from './chain.ts'
import { base64urlJson } from './wire.ts'
import { untilGatewayServes } from './public-gateway.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

/**
 * Proof of Traffic attacked through its public surface, as a stranger would: receipts handed to
 * the meta node and to a provider, downloads without receipts or beyond credit, and the
 * contracts' claim, withdrawal and report entries. Each is refused with a named error and
 * nothing is counted.
 */
describe('Proof of Traffic refuses fraud', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  let chain: NonNullable<TestNetwork['file']['chain']>
  let dev: PrivateKeyAccount
  let root: string
  const user = privateKeyToAccount(generatePrivateKey())
  const stranger = privateKeyToAccount(generatePrivateKey())
  let c: ReturnType<typeof devnetChainClients>
  const pub = () => c.pub
  const settlement = () => c.settlement
  const credit = () => c.credit
  const meta = () => new MetaClient({ urls: net.file.metaUrls })
  const getJson = async <T>(path: string): Promise<T> => (await (await fetch(new URL(path, net.file.metaUrls[0]))).json()) as T
  const postReceipts = async (url: string, receipts: SignedReceipt[]): Promise<ReceiptsResponse> =>
    (await (
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ receipts }) })
    ).json()) as ReceiptsResponse
  const sign = async (by: PrivateKeyAccount, receipt: Receipt): Promise<SignedReceipt> => ({
    receipt,
    signature: await by.signTypedData(receiptTypedData(receipt, chain.chainId)),
  })
  const send = (by: PrivateKeyAccount, call: ContractCall) => c.send(by, call)
  const revertName = (by: PrivateKeyAccount, call: ContractCall) => c.revertName(by, call)
  const lastEpoch = () => c.lastEpoch()
  const settledThrough = (epoch: number) => c.settledThrough(epoch)
  const fund = (who: PrivateKeyAccount, tokens: bigint, deposit: bigint) => c.fund(dev, who, tokens, deposit)
  const uploadAs = async (who: PrivateKeyAccount, size: number, name: string) => {
    const path = join(net.workDir, name)
    await writeRandomFile(path, size)
    const source = await fsSource(path)
    return (
      await createKonbiniClient({ metaUrls: net.file.metaUrls, account: who, libp2p }).put(source.candidates(), {
        name,
        size: source.size,
        replicas: 2,
        public: true,
      })
    ).root
  }

  beforeAll(async () => {
    net = await startTestNetwork({
      resources: 2,
      chain: true,
      metaEnv: { KONBINI_EPOCH_SECONDS: '6', KONBINI_EPOCH_GRACE_SECONDS: '3', KONBINI_TICKET_SECONDS: '10' },
      resourceEnv: { KONBINI_RECEIPT_FORWARD_MS: '300', KONBINI_RECEIPT_WAIT_MS: '1500' },
    })
    if (net.file.chain === undefined) throw new Error('devnet.json has no chain section')
    chain = net.file.chain
    dev = privateKeyToAccount(net.file.devKey as Hex)
    c = devnetChainClients(chain)
    libp2p = await createNodeClientLibp2p()
    await fund(user, parseEther('5'), parseEther('1'))
    root = await uploadAs(dev, 1024 * 1024, 'small.bin')
  })
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test('error: the meta node refuses forged, replayed, out-of-ticket, over-budget and unknown-ticket receipts with named errors, and counts only the genuine one', async () => {
    const { download } = await meta().post('providers', { root, consumer: user.address })
    const ticket = download.ticket
    expect(ticket.payer.toLowerCase()).toBe(user.address.toLowerCase())
    const provider = ticket.providers[0] as string
    const base: Receipt = { ticket: ticket.id, consumer: user.address, provider, epoch: ticket.epoch, bytes: 1000 }
    const genuine = await sign(user, base)
    const answer = await postReceipts(new URL('/v1/receipts', net.file.metaUrls[0]).toString(), [
      await sign(stranger, base),
      await sign(user, { ...base, provider: '12D3KooWSM8ce2RGWpr4KmnxVfzX8nKXa1LG4MNVdnbhPhF3RyVg' }),
      await sign(user, { ...base, bytes: ticket.maxBytes + 1 }),
      await sign(user, { ...base, ticket: `0x${'ab'.repeat(32)}` }),
      genuine,
      genuine,
      await sign(user, { ...base, bytes: 999 }),
    ])
    expect(answer.accepted).toBe(1)
    expect(answer.rejected.map((r) => [r.index, r.error.name])).toEqual([
      [0, 'ReceiptForgedError'],
      [1, 'ReceiptScopeError'],
      [2, 'ReceiptScopeError'],
      [3, 'ReceiptScopeError'],
      [5, 'ReceiptReplayedError'],
      [6, 'ReceiptReplayedError'],
    ])
    // the provider refuses the forged one too, on its own receipts route
    const node = net.file.nodes.find((n) => n.peerId === provider)
    const atNode = await postReceipts(new URL('/v1/blocks/receipts', node?.httpUrl).toString(), [await sign(stranger, base)])
    expect(atNode.rejected.map((r) => r.error.name)).toEqual(['ReceiptScopeError'])

    // once the epoch is settled, its archive holds exactly the genuine receipt for this ticket
    await settledThrough(ticket.epoch)
    const logs = await pub().getContractEvents({ ...settlement(), eventName: 'ReportSubmitted', fromBlock: 0n })
    const report = logs.find((l) => Number(l.args.epoch) === ticket.epoch)
    if (report === undefined) throw new Error(`no report for epoch ${ticket.epoch}`)
    const archive = await readArchive(CID.decode(Buffer.from((report.args.archiveCid as Hex).slice(2), 'hex')).toString())
    expect(archive.receipts.filter((r) => r.receipt.ticket === ticket.id)).toEqual([genuine])
    expect(BigInt((await getJson<SpendResponse>(`/v1/credit/${user.address}`)).cumulativeSpent)).toBe((1000n * PRICE_PER_GIB) / GIB)
    // and a receipt for a closed epoch is refused
    const late = await postReceipts(new URL('/v1/receipts', net.file.metaUrls[0]).toString(), [await sign(user, { ...base, bytes: 2000 })])
    expect(late.rejected.map((r) => r.error.name)).toEqual(['EpochClosedError'])
  }, 120_000)

  test('error: a receipt riding a want request (x-konbini-receipt) is checked like a posted one: forged → ReceiptForgedError, garbled → InvalidRequestError, nothing served; a genuine one is taken, forwarded and counted', async () => {
    const viewer = privateKeyToAccount(generatePrivateKey())
    await fund(viewer, parseEther('1'), parseEther('1'))
    const { download } = await meta().post('providers', { root, consumer: viewer.address })
    const ticket = download.ticket
    expect(ticket.payer.toLowerCase()).toBe(viewer.address.toLowerCase())
    const node = net.file.nodes.find((n) => n.peerId === ticket.providers[0]) as { peerId: string; httpUrl: string }
    const want = (receiptHeader: string) =>
      fetch(new URL('/v1/blocks', node.httpUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TICKET_HEADER]: base64urlJson(download), [RECEIPT_HEADER]: receiptHeader },
        body: JSON.stringify({ cids: [root] }),
      })
    const errorOf = async (res: Response) => ({ status: res.status, name: ((await res.json()) as { error: { name: string } }).error.name })
    const base: Receipt = { ticket: ticket.id, consumer: viewer.address, provider: node.peerId, epoch: ticket.epoch, bytes: 5000 }
    expect(await errorOf(await want(base64urlJson(await sign(stranger, base))))).toEqual({ status: 403, name: 'ReceiptForgedError' })
    expect(await errorOf(await want('not base64url json'))).toMatchObject({ name: 'InvalidRequestError' })
    expect(await errorOf(await want(base64urlJson({ receipt: base })))).toMatchObject({ name: 'InvalidRequestError' })
    expect(
      await errorOf(
        await want(base64urlJson(await sign(viewer, { ...base, provider: net.file.nodes.find((n) => n.peerId !== node.peerId)?.peerId as string }))),
      ),
    ).toEqual({ status: 403, name: 'ReceiptScopeError' })
    // nothing those carried was counted; the genuine one rides a want that is served, and reaches the meta node through the provider
    const spent = async () => BigInt((await getJson<SpendResponse>(`/v1/credit/${viewer.address}`)).cumulativeSpent)
    expect(await spent()).toBe(0n)
    const served = await want(base64urlJson(await sign(viewer, base)))
    expect(served.status).toBe(200)
    expect((await served.arrayBuffer()).byteLength).toBeGreaterThan(0)
    await expect.poll(spent, { timeout: 30_000, interval: 300 }).toBe((5000n * PRICE_PER_GIB) / GIB)
  }, 120_000)

  test('error: a consumer that sends no receipts is served at most MAX_UNSIGNED_BYTES (64 MiB) beyond them, then refused with ReceiptsOverdueError', async () => {
    const big = await uploadAs(dev, MAX_UNSIGNED_BYTES + 8 * 1024 * 1024, 'big.bin')
    let received = 0
    // the user's own download from one provider, without a signer: no receipts
    const first = net.file.nodes[0]?.peerId as string
    const d = await openDownload(meta(), libp2p, big, { consumer: user.address, transport: 'http', only: [first], onBlock: (bytes) => (received += bytes) })
    expect(d.ticket.ticket.payer.toLowerCase()).toBe(user.address.toLowerCase())
    const entry = d.entry
    if (entry.type !== 'file') throw new Error('not a file')
    const read = (async () => {
      for await (const _ of entry.content({ blockReadConcurrency: d.readAhead })) {
      }
    })()
    await expect(read).rejects.toThrow()
    d.pool.close()
    // the unsigned tail, and the few blocks already on their way when it filled
    expect(received).toBeGreaterThanOrEqual(MAX_UNSIGNED_BYTES - 2 * 1024 * 1024)
    expect(received).toBeLessThanOrEqual(MAX_UNSIGNED_BYTES + 8 * 1024 * 1024)
    const metrics = await (await fetch(new URL('/metrics', net.file.nodes[0]?.httpUrl))).text()
    expect(metrics).toMatch(/konbini_block_sessions_refused_total\{error="ReceiptsOverdueError"\} [1-9]/)
  }, 120_000)

  test('error: a consumer that reads each block all but its end and resets the connection (an abandoned answer) is forgiven at most MAX_UNSIGNED_BYTES more, then refused with ReceiptsOverdueError', async () => {
    // large enough that the ticket's byte budget is not what stops it
    const root = await uploadAs(dev, 2 * MAX_UNSIGNED_BYTES + 8 * 1024 * 1024, 'dropped.bin')
    const node = net.file.nodes[0] as { peerId: string; httpUrl: string }
    const { download } = await meta().post('providers', { root, consumer: user.address, providers: [node.peerId] })
    expect(download.ticket.payer.toLowerCase()).toBe(user.address.toLowerCase())
    // a public file: the node's gateway serves it from its next heartbeat
    await untilGatewayServes(new URL(`/ipfs/${root}?format=raw`, node.httpUrl).toString())
    const rootBlock = new Uint8Array(await (await fetch(new URL(`/ipfs/${root}?format=raw`, node.httpUrl))).arrayBuffer())
    const leaf = String(dagPb.decode(rootBlock).Links[0]?.Hash)
    // each answer read to its last KiB, then the connection reset: the bytes that count, no receipt ever
    let nearlyRead = 0
    let refused: string | undefined
    for (let i = 0; i < (3 * MAX_UNSIGNED_BYTES) / (1024 * 1024) && refused === undefined; i++) {
      const answer = await readAllButTheEnd(new URL('/v1/blocks', node.httpUrl), download, leaf, 1024 * 1024 - 1024)
      if (answer.error !== undefined) refused = answer.error
      nearlyRead += answer.bytes
    }
    expect(refused).toBe('ReceiptsOverdueError')
    // the unsigned tail plus at most as much again forgiven for answers it abandoned
    expect(nearlyRead).toBeGreaterThanOrEqual(2 * MAX_UNSIGNED_BYTES - 4 * 1024 * 1024)
    expect(nearlyRead).toBeLessThanOrEqual(2 * MAX_UNSIGNED_BYTES + 2 * 1024 * 1024)
  }, 120_000)

  test("error: beyond the payer's credit nothing is counted, the next ticket is refused with CreditExhaustedError, and the contracts refuse a double claim, a wrong proof, a withdrawal beyond unspent credit and a settled epoch's report", async () => {
    const poor = privateKeyToAccount(generatePrivateKey())
    const deposit = parseEther('0.005') // about 5 MiB of traffic
    await fund(poor, parseEther('1'), deposit)
    const file = await uploadAs(dev, 8 * 1024 * 1024, 'eight.bin')
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: poor, libp2p })
    const d = await client.open(file)
    const epoch = d.ticket.ticket.epoch
    if (d.entry.type !== 'file') throw new Error('not a file')
    for await (const _ of d.entry.content({ blockReadConcurrency: d.readAhead })) {
    }
    await d.finish()
    // the receipts reach the meta node: its pending spend covers the whole deposit
    await vi.waitFor(
      async () =>
        expect(
          (await meta()
            .post('providers', { root: file, consumer: poor.address })
            .catch((e: Error) => e)) as Error,
        ).toHaveProperty('name', 'CreditExhaustedError'),
      { timeout: 20_000, interval: 300 },
    )
    await settledThrough(epoch)
    const spend = await getJson<SpendResponse>(`/v1/credit/${poor.address}`)
    const counted = (deposit * GIB) / PRICE_PER_GIB
    expect(BigInt(spend.cumulativeSpent)).toBe((counted * PRICE_PER_GIB) / GIB)
    expect(BigInt(spend.cumulativeSpent)).toBeLessThanOrEqual(deposit)

    // a claim with a wrong proof, then a double claim
    const operators = await Promise.all(
      net.file.nodes.map(async (_, i) => privateKeyToAccount((await readFile(join(net.dataDir, `node${i + 1}`, 'operator.key'), 'utf8')).trim() as Hex)),
    )
    const earner = await (async () => {
      for (const o of operators) {
        const r = await getJson<RewardsResponse>(`/v1/rewards/${o.address}`)
        if (BigInt(r.cumulative) > 0n) return { operator: o, rewards: r }
      }
      throw new Error('no operator earned')
    })()
    const claim = (amount: bigint, proof: Hex[]) => ({ ...settlement(), functionName: 'claim', args: [earner.operator.address, amount, proof] })
    expect(await revertName(earner.operator, claim(BigInt(earner.rewards.cumulative) + 1n, earner.rewards.proof as Hex[]))).toBe('WrongProof')
    await send(earner.operator, claim(BigInt(earner.rewards.cumulative), earner.rewards.proof as Hex[]))
    expect(await revertName(earner.operator, claim(BigInt(earner.rewards.cumulative), earner.rewards.proof as Hex[]))).toBe('NothingToClaim')

    // withdrawing the whole deposit, though part of it was spent
    await send(poor, { ...credit(), functionName: 'requestWithdrawal', args: [deposit] })
    const [, notBefore] = await pub().readContract({ ...credit(), functionName: 'pendingWithdrawal', args: [poor.address] })
    await settledThrough(Number(notBefore))
    const now = await getJson<SpendResponse>(`/v1/credit/${poor.address}`)
    expect(await revertName(poor, { ...credit(), functionName: 'withdraw', args: [BigInt(now.cumulativeSpent), now.proof as Hex[]] })).toBe('BeyondUnspent')

    // the last settled report again, signed by the meta node itself: that epoch is settled
    const metaKey = privateKeyToAccount((await readFile(join(net.dataDir, 'meta', 'meta.key'), 'utf8')).trim() as Hex)
    const settled = await lastEpoch()
    const log = (await pub().getContractEvents({ ...settlement(), eventName: 'ReportSubmitted', fromBlock: 0n })).find((l) => Number(l.args.epoch) === settled)
    const again: EpochReport = {
      epoch: BigInt(settled),
      rewardRoot: log?.args.rewardRoot as Hex,
      spendRoot: log?.args.spendRoot as Hex,
      totalRewards: log?.args.totalRewards as bigint,
      totalSpent: log?.args.totalSpent as bigint,
      archiveCid: log?.args.archiveCid as Hex,
    }
    const signature = await metaKey.signTypedData(epochReportTypedData(again, chain.chainId, chain.contracts.settlement as Hex))
    expect(await revertName(metaKey, { ...settlement(), functionName: 'submitReport', args: [again, signature] })).toBe('EpochNotNext')
  }, 180_000)

  test("behavior: a stranger without credit is refused a paid ticket for someone's file until its owner sets a spend cap; then the owner pays", async () => {
    const err = await meta()
      .post('providers', { root, consumer: stranger.address })
      .catch((e: Error) => e)
    expect(err).toHaveProperty('name', 'CreditExhaustedError')
    // nor may it upload: uploads are paid traffic too
    const upload = await createKonbiniClient({ metaUrls: net.file.metaUrls, account: stranger, libp2p })
      .put([{ content: new Uint8Array(1024) }], { name: 'free.bin', size: 1024, replicas: 2, public: true })
      .catch((e: Error) => e)
    expect(upload).toHaveProperty('name', 'CreditExhaustedError')
    await send(dev, { ...credit(), functionName: 'setSpendCap', args: [parseEther('1')] })
    const { download } = await meta().post('providers', { root, consumer: stranger.address })
    expect(download.ticket.payer.toLowerCase()).toBe(dev.address.toLowerCase())
    expect((download.ticket as DownloadTicket).consumer.toLowerCase()).toBe(stranger.address.toLowerCase())
  })

  async function readArchive(cid: string) {
    const d = await createKonbiniClient({ metaUrls: net.file.metaUrls, account: user, libp2p }).open(cid)
    const chunks: Uint8Array[] = []
    if (d.entry.type !== 'file' && d.entry.type !== 'raw') throw new Error('the archive is not a file')
    for await (const chunk of d.entry.content()) chunks.push(chunk)
    await d.finish()
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { receipts: SignedReceipt[] }
  }
})

/**
 * One want-list for `cid` under `ticket`, over a connection of its own: reads the answer until
 * `enough` bytes came (then resets the connection, leaving the rest unread) or it ends; an error
 * frame's name when the node refused.
 */
function readAllButTheEnd(url: URL, ticket: unknown, cid: string, enough: number): Promise<{ bytes: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      agent: false,
      // kept alive, as a real client's: the node still holds the connection when the reset comes
      headers: { 'content-type': 'application/json', connection: 'keep-alive', [TICKET_HEADER]: base64urlJson(ticket) },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      let bytes = 0
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        bytes += chunk.byteLength
        if (bytes < enough) return
        res.socket.resetAndDestroy()
        resolve({ bytes })
      })
      res.on('error', () => {})
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        const error = /"name":"(\w+)"/.exec(body.toString('latin1'))?.[1]
        resolve({ bytes, ...(error !== undefined && { error }) })
      })
    })
    req.end(JSON.stringify({ cids: [cid] }))
  })
}
