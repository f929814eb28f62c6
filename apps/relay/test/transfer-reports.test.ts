import { join } from 'node:path'
import { createKonbiniClient, MetaClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import {
  type DownloadTicket,
  downloadTicketTypedData,
  MAX_REPORTED_FAILURES,
  MIN_RELIABILITY,
  type NodeInfo,
  type SignedDownloadTicket,
  type TransferReport,
  transferReportTypedData,
  canonicalDigest,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { type Hex, parseEther } from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { devnetChainClients } from './chain.ts'
import { writeRandomFile } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { postForError } from './wire.ts'

/**
 * Transfer reports attacked as a stranger would: before, one unsigned loop of reports naming the
 * four nodes with `failures: 1000` made every file unavailable and every upload impossible, and
 * one report of 1e12 bytes in 1 ms put a node at the head of every placement. A report now counts
 * only signed by its ticket's consumer, once, about that ticket's providers, bounded by what the
 * receipts prove.
 */
describe('transfer reports are believed only as far as they are proven', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  let dev: PrivateKeyAccount
  let root: string
  const attacker = privateKeyToAccount(generatePrivateKey())
  const meta = () => new MetaClient({ urls: net.file.metaUrls })
  const chainId = () => net.file.chain?.chainId ?? 0
  const nodes = async (): Promise<NodeInfo[]> => (await (await fetch(new URL('/v1/nodes', net.file.metaUrls[0]))).json()).nodes
  const post = (body: unknown) => postForError(net.file.metaUrls[0] as string, '/v1/reports/transfer', body)
  /** A report on `ticket` signed by `by`. */
  const signed = async (by: PrivateKeyAccount, ticket: SignedDownloadTicket, report: TransferReport) => {
    const digest = canonicalDigest(report)
    const signature = await by.signTypedData(transferReportTypedData({ ticket: ticket.ticket.id, consumer: ticket.ticket.consumer, digest }, chainId()))
    return { ticket, report, signature }
  }
  const ticketFor = async (who: PrivateKeyAccount) => (await meta().post('providers', { root, consumer: who.address })).download
  const failing = (ticket: SignedDownloadTicket, failures = 1000): TransferReport => ({
    ticketId: ticket.ticket.id,
    providers: ticket.ticket.providers.map((peerId) => ({ peerId, bytes: 0, blocks: 0, millis: 1, failures })),
  })

  beforeAll(async () => {
    net = await startTestNetwork({ resources: 4, chain: true })
    if (net.file.chain === undefined) throw new Error('devnet.json has no chain section')
    dev = privateKeyToAccount(net.file.devKey as Hex)
    // the attacker buys a little credit: what a real one would do to get paid tickets
    await devnetChainClients(net.file.chain).fund(dev, attacker, parseEther('5'), parseEther('1'))
    libp2p = await createNodeClientLibp2p()
    const path = join(net.workDir, 'first.bin')
    await writeRandomFile(path, 2 * 1024 * 1024)
    const source = await fsSource(path)
    root = (
      await createKonbiniClient({ metaUrls: net.file.metaUrls, account: dev, libp2p }).put(source.candidates(), {
        name: 'first.bin',
        size: source.size,
        public: true,
      })
    ).root
  }, 120_000)
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test('error: unsigned, forged-ticket, foreign-signer, foreign-provider and replayed reports are refused with named errors; a genuine one counts once, bounded', async () => {
    const before = new Map((await nodes()).map((n) => [n.peerId, n]))
    const ticket = await ticketFor(attacker)
    // the old unsigned shape
    expect(await post(failing(ticket))).toEqual({ status: 400, name: 'InvalidRequestError' })
    // a ticket the attacker signed itself, naming the meta node as its issuer
    const forgedTicket: DownloadTicket = { ...ticket.ticket, id: `0x${'ee'.repeat(32)}`, providers: ticket.ticket.providers }
    const forged = { ticket: forgedTicket, signature: await attacker.signTypedData(downloadTicketTypedData(forgedTicket, chainId())) }
    expect(await post(await signed(attacker, forged, failing(forged)))).toEqual({ status: 403, name: 'TicketForgedError' })
    // someone else's ticket, signed by the attacker
    const devTicket = await ticketFor(dev)
    expect(await post(await signed(attacker, devTicket, failing(devTicket)))).toEqual({ status: 401, name: 'SignatureInvalidError' })
    // a provider the ticket does not name
    const foreign: TransferReport = {
      ticketId: ticket.ticket.id,
      providers: [{ peerId: '12D3KooWSM8ce2RGWpr4KmnxVfzX8nKXa1LG4MNVdnbhPhF3RyVg', bytes: 0, blocks: 0, millis: 1, failures: 1000 }],
    }
    expect(await post(await signed(attacker, ticket, foreign))).toEqual({ status: 403, name: 'TransferReportScopeError' })
    // nothing so far moved any node
    for (const n of await nodes()) expect(n.successRate, n.peerId).toBe(before.get(n.peerId)?.successRate)
    // the genuine report counts — its failures capped, one step — and only once
    const genuine = await signed(attacker, ticket, failing(ticket))
    expect(await post(genuine)).toEqual({ status: 200, name: undefined })
    expect(await post(genuine)).toEqual({ status: 409, name: 'TransferReportReplayedError' })
    for (const n of (await nodes()).filter((n) => ticket.ticket.providers.includes(n.peerId))) {
      const was = before.get(n.peerId)?.successRate ?? 1
      // MAX_REPORTED_FAILURES failures and no success: one full step (0.3) toward 0, no more
      expect(n.successRate, n.peerId).toBeCloseTo(was * 0.7, 6)
    }
    expect(MAX_REPORTED_FAILURES).toBeLessThan(1000)
  }, 60_000)

  test("error: a paid ticket's report of 1e12 bytes in 1 ms, with no receipt to prove them, moves no node's throughput", async () => {
    const before = new Map((await nodes()).map((n) => [n.peerId, n.throughputBps]))
    const ticket = await ticketFor(attacker)
    const boast: TransferReport = {
      ticketId: ticket.ticket.id,
      providers: ticket.ticket.providers.map((peerId) => ({ peerId, bytes: 1e12, blocks: 1e6, millis: 1, failures: 0 })),
    }
    expect(await post(await signed(attacker, ticket, boast))).toEqual({ status: 200, name: undefined })
    for (const n of await nodes()) expect(n.throughputBps, n.peerId).toBe(before.get(n.peerId))
  }, 60_000)

  test("behavior: after 72 tickets' worth of signed failure reports against every node, every file still downloads and uploads still place on 3 nodes", async () => {
    for (let i = 0; i < 72; i++) {
      const ticket = await ticketFor(attacker)
      expect((await post(await signed(attacker, ticket, failing(ticket)))).status).toBe(200)
    }
    const all = await nodes()
    for (const n of all) expect(n.score, `${n.peerId} stays rankable`).toBeGreaterThan(0)
    expect(Math.min(...all.map((n) => n.successRate))).toBeLessThan(MIN_RELIABILITY)
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: dev, libp2p })
    const d = await client.open(root)
    let bytes = 0
    if (d.entry.type !== 'file') throw new Error('not a file')
    for await (const chunk of d.entry.content({ blockReadConcurrency: d.readAhead })) bytes += chunk.byteLength
    await d.finish()
    expect(bytes).toBe(2 * 1024 * 1024)
    const path = join(net.workDir, 'second.bin')
    await writeRandomFile(path, 1024 * 1024)
    const source = await fsSource(path)
    const put = await client.put(source.candidates(), { name: 'second.bin', size: source.size })
    expect(put.holders).toHaveLength(3)
  }, 120_000)

  test("behavior: a real download reports once, signed, with its receipts riding along, and the meta node learns its providers' throughput from it", async () => {
    const path = join(net.workDir, 'measured.bin')
    await writeRandomFile(path, 24 * 1024 * 1024)
    const source = await fsSource(path)
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: dev, libp2p })
    const { root: measured, holders } = await client.put(source.candidates(), { name: 'measured.bin', size: source.size })
    const before = new Map((await nodes()).map((n) => [n.peerId, n]))
    const d = await client.open(measured)
    if (d.entry.type !== 'file') throw new Error('not a file')
    for await (const _ of d.entry.content({ blockReadConcurrency: d.readAhead })) {
    }
    await d.finish()
    const served = d.pool.stats().filter((s) => s.blocks > 0)
    expect(served.length).toBeGreaterThan(0)
    const after = new Map((await nodes()).map((n) => [n.peerId, n]))
    for (const s of served) {
      expect(holders).toContain(s.peerId)
      expect(after.get(s.peerId)?.throughputBps, s.peerId).not.toBe(before.get(s.peerId)?.throughputBps)
    }
    // the report was spent: a second one for the same ticket is refused
    const again = await signed(dev, d.ticket, { ticketId: d.ticket.ticket.id, providers: [] })
    expect(await post(again)).toEqual({ status: 409, name: 'TransferReportReplayedError' })
  }, 120_000)
})
