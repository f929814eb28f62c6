import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { base64urlJson, createKonbiniClient, MetaClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { CumulativeTree, EMPTY_TREE_ROOT, registryAbi, settlementAbi } from '@konbini/contracts'
import {
  type CosignResponse,
  type EpochArchive,
  type EpochReport,
  epochReportTypedData,
  PRICE_PER_GIB,
  type ReportToSign,
  TICKET_HEADER,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { type Address, bytesToHex, concat, decodeFunctionData, type Hex, parseAbiItem, recoverTypedDataAddress } from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { openPostgres } from '../src/meta/db/postgres.ts'
import { writeRandomFile } from './files.ts'
import { type ContractCall, devnetChainClients } from './chain.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { createDatabase, startPostgres, type TestPostgres } from './postgres.ts'

const pg = await startPostgres()

/**
 * Acceptance 3 of the chain layer: three meta nodes share one index, reports need 2 of 3
 * signatures; the aggregator's reports land only with a co-signer's, a co-signer recomputes and
 * refuses an inflated report, the chain refuses a report short of its quorum or signed by a
 * stranger, and a meta node kicked by stake vote can sign nothing more and its tickets are refused.
 */
describe.skipIf(pg === undefined)('2 of 3 meta nodes settle each epoch', () => {
  let net: TestNetwork
  let server: TestPostgres
  let dbUrl: string
  let libp2p: Libp2p
  let chain: NonNullable<TestNetwork['file']['chain']>
  const metaKeys: PrivateKeyAccount[] = []
  let c: ReturnType<typeof devnetChainClients>
  const pub = () => c.pub
  const settlement = () => c.settlement
  const lastEpoch = () => c.lastEpoch()
  const revertName = (by: PrivateKeyAccount, call: ContractCall) => c.revertName(by, call)
  const signReport = (by: PrivateKeyAccount, report: EpochReport) =>
    by.signTypedData(epochReportTypedData(report, chain.chainId, chain.contracts.settlement as Hex))
  /** Signatures packed as the contract takes them: signers ascending. */
  const pack = (signed: Array<{ signer: string; signature: Hex }>) =>
    concat([...signed].sort((a, b) => (a.signer.toLowerCase() < b.signer.toLowerCase() ? -1 : 1)).map((s) => s.signature))
  const cosign = async (metaUrl: string, report: ReportToSign) => {
    const res = await fetch(new URL('/v1/epochs/cosign', metaUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ report }),
    })
    return { status: res.status, body: (await res.json()) as CosignResponse & { error?: { name: string } } }
  }

  beforeAll(async () => {
    server = pg as TestPostgres
    dbUrl = await createDatabase(server.url, 'konbini_quorum')
    net = await startTestNetwork({
      metas: 3,
      resources: 2,
      chain: true,
      quorum: 2,
      metaEnv: { KONBINI_DATABASE_URL: dbUrl, KONBINI_EPOCH_SECONDS: '6', KONBINI_EPOCH_GRACE_SECONDS: '3', KONBINI_TICKET_SECONDS: '10' },
      resourceEnv: { KONBINI_RECEIPT_FORWARD_MS: '300', KONBINI_HEARTBEAT_MS: '500' },
    })
    if (net.file.chain === undefined) throw new Error('devnet.json has no chain section')
    chain = net.file.chain
    c = devnetChainClients(chain)
    for (const dir of ['meta', 'meta2', 'meta3']) metaKeys.push(privateKeyToAccount((await readFile(join(net.dataDir, dir, 'meta.key'), 'utf8')).trim() as Hex))
    libp2p = await createNodeClientLibp2p()
  })
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
    await server?.stop()
  })

  test('behavior: paid traffic settles with two signatures, a co-signer having recomputed the report from its archive', async () => {
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: privateKeyToAccount(net.file.devKey as Hex), libp2p })
    const path = join(net.workDir, 'q.bin')
    await writeRandomFile(path, 6 * 1024 * 1024 + 5)
    const { root } = await client.put([{ content: await readFile(path) }], { name: 'q.bin', size: 6 * 1024 * 1024 + 5, replicas: 2 })
    const d = await client.open(root)
    if (d.entry.type !== 'file') throw new Error('not a file')
    for await (const _ of d.entry.content({ blockReadConcurrency: d.readAhead })) {
    }
    await d.finish()
    const epoch = d.ticket.ticket.epoch
    await vi.waitFor(async () => expect(await lastEpoch()).toBeGreaterThanOrEqual(epoch), { timeout: 90_000, interval: 500 })
    const log = (await pub().getContractEvents({ ...settlement(), eventName: 'ReportSubmitted', fromBlock: 0n })).find((l) => Number(l.args.epoch) === epoch)
    const tx = await pub().getTransaction({ hash: log?.transactionHash as Hex })
    // two packed signatures of 65 bytes, from two different whitelisted meta nodes
    const { args } = decodeFunctionData({ abi: settlementAbi, data: tx.input })
    const packed = args?.[1] as Hex
    expect((packed.length - 2) / 2).toBe(130)
    const report = args?.[0] as EpochReport
    const signers = await Promise.all(
      [packed.slice(2, 132), packed.slice(132)].map((sig) =>
        recoverTypedDataAddress({ ...epochReportTypedData(report, chain.chainId, chain.contracts.settlement as Hex), signature: `0x${sig}` }),
      ),
    )
    expect(new Set(signers.map((a) => a.toLowerCase())).size).toBe(2)
    for (const signer of signers) expect(metaKeys.map((k) => k.address.toLowerCase())).toContain(signer.toLowerCase())
    const cosigned = await Promise.all(
      net.file.metaUrls.slice(1).map(async (u) => (await (await fetch(new URL('/metrics', u))).text()).match(/konbini_reports_cosigned_total (\d+)/)?.[1]),
    )
    expect(cosigned.some((n) => Number(n) > 0)).toBe(true)
    expect(BigInt(log?.args.totalSpent ?? 0n)).toBeGreaterThan(0n)
  }, 150_000)

  test("error: with the aggregator stopped, a co-signer signs the next report only as the archive and chain give it: an inflated one gets ReportMismatchError; the chain refuses one signature, a stranger's, and a kicked meta node's; its tickets are refused", async () => {
    // at least one epoch settled (with or without traffic), then the aggregator stops
    await vi.waitFor(async () => expect(await lastEpoch()).toBeGreaterThanOrEqual(1), { timeout: 60_000, interval: 500 })
    await net.devnet.metas[0]?.kill('SIGTERM')
    const settled = await lastEpoch()
    const next = settled + 1
    // the settled tables of the last epoch, from the shared index
    const db = await openPostgres(dbUrl)
    const [row] = await db.query<{ report: string }>('SELECT report FROM epochs WHERE epoch = $1', [settled])
    await db.close()
    const last = JSON.parse(row?.report as string) as { rewards: Array<[string, string]>; spends: Array<[string, string]> }
    // an epoch with no traffic: every depositor keeps its spend, rewards stay
    const block = await pub().getBlockNumber()
    const depositors = [
      ...new Set(
        (
          await pub().getLogs({
            address: chain.contracts.credit as Address,
            event: parseAbiItem('event Deposited(address indexed account, uint256 amount)'),
            fromBlock: 0n,
            toBlock: block,
          })
        ).map((l) => (l.args.account as string).toLowerCase()),
      ),
    ].sort()
    const spends = new Map(last.spends)
    for (const d of depositors) if (!spends.has(d)) spends.set(d, '0')
    const archive: EpochArchive = {
      version: 1,
      epoch: next,
      chainId: chain.chainId,
      settlement: chain.contracts.settlement,
      block: Number(block),
      price: String(PRICE_PER_GIB),
      emission: String(await pub().readContract({ ...settlement(), functionName: 'emissionPerEpoch' })),
      previous: { epoch: settled, rewards: last.rewards, spends: last.spends },
      credit: [],
      depositors,
      operators: [],
      grants: [],
      uploads: [],
      tickets: [],
      receipts: [],
    }
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls.slice(1), account: privateKeyToAccount(net.file.devKey as Hex), libp2p })
    const bytes = new TextEncoder().encode(JSON.stringify(archive))
    const { root: archiveCid } = await client.put([{ content: bytes }], { name: 'archive.json', size: bytes.byteLength, replicas: 2, public: true })
    const tree = (entries: Iterable<[string, string]>) => {
      const list = [...entries].map(([account, amount]) => ({ account: account as Address, amount: BigInt(amount) }))
      return list.length === 0 ? EMPTY_TREE_ROOT : new CumulativeTree(list).root
    }
    const sum = (entries: Iterable<[string, string]>) => [...entries].reduce((a, [, v]) => a + BigInt(v), 0n)
    const honest: ReportToSign = {
      epoch: next,
      rewardRoot: tree(last.rewards),
      spendRoot: tree(spends),
      totalRewards: String(sum(last.rewards)),
      totalSpent: String(sum(spends)),
      archiveCid,
    }
    const [operatorA] = last.rewards[0] ?? ['0x0000000000000000000000000000000000000001', '0']
    const inflatedRewards = new Map(last.rewards)
    inflatedRewards.set(operatorA, String(BigInt(inflatedRewards.get(operatorA) ?? '0') + 10n ** 18n))
    const inflated: ReportToSign = { ...honest, rewardRoot: tree(inflatedRewards), totalRewards: String(sum(inflatedRewards)) }

    const refused = await cosign(net.file.metaUrls[1] as string, inflated)
    expect(refused.status).toBe(409)
    expect(refused.body.error?.name).toBe('ReportMismatchError')
    const meta2 = await cosign(net.file.metaUrls[1] as string, honest)
    expect(meta2.status, JSON.stringify(meta2.body)).toBe(200)
    expect(meta2.body.signer.toLowerCase()).toBe(metaKeys[1]?.address.toLowerCase())

    const report: EpochReport = {
      epoch: BigInt(next),
      rewardRoot: honest.rewardRoot as Hex,
      spendRoot: honest.spendRoot as Hex,
      totalRewards: BigInt(honest.totalRewards),
      totalSpent: BigInt(honest.totalSpent),
      archiveCid: bytesToHex(CID.parse(archiveCid).bytes),
    }
    const submit = (signatures: Hex) => ({ ...settlement(), functionName: 'submitReport', args: [report, signatures] })
    const stranger = privateKeyToAccount(generatePrivateKey())
    const one = [{ signer: meta2.body.signer, signature: meta2.body.signature as Hex }]
    const withStranger = [...one, { signer: stranger.address, signature: await signReport(stranger, report) }]
    expect(await revertName(stranger, submit(pack(one)))).toBe('QuorumNotReached')
    expect(await revertName(stranger, submit(pack(withStranger)))).toBe('NotMeta')

    // the resource nodes' operators (all the bonded stake) vote meta3 out
    for (const [i] of net.file.nodes.entries()) {
      const operator = privateKeyToAccount((await readFile(join(net.dataDir, `node${i + 1}`, 'operator.key'), 'utf8')).trim() as Hex)
      await c.send(operator, { address: chain.contracts.registry as Address, abi: registryAbi, functionName: 'vote', args: [metaKeys[2]?.address as Address] })
    }
    expect(await pub().readContract({ ...settlement(), functionName: 'isMeta', args: [metaKeys[2]?.address as Address] })).toBe(false)
    const kicked = [...one, { signer: metaKeys[2]?.address as string, signature: await signReport(metaKeys[2] as PrivateKeyAccount, report) }]
    expect(await revertName(stranger, submit(pack(kicked)))).toBe('NotMeta')
    // with meta3's, the two whitelisted signatures still settle it
    const meta1 = { signer: metaKeys[0]?.address as string, signature: await signReport(metaKeys[0] as PrivateKeyAccount, report) }
    expect(await revertName(stranger, submit(pack([...one, meta1])))).toBeUndefined()

    // resource nodes stop trusting meta3's tickets (they follow the chain's whitelist)
    const { download } = await new MetaClient({ urls: [net.file.metaUrls[2] as string] }).post('providers', {
      root: archiveCid,
      consumer: privateKeyToAccount(net.file.devKey as Hex).address,
    })
    expect(download.ticket.meta.toLowerCase()).toBe(metaKeys[2]?.address.toLowerCase())
    const node = net.file.nodes[0]?.httpUrl as string
    await vi.waitFor(
      async () => {
        const res = await fetch(new URL('/v1/blocks', node), {
          method: 'POST',
          headers: { 'content-type': 'application/json', [TICKET_HEADER]: base64urlJson(download) },
          body: JSON.stringify({ cids: [archiveCid] }),
        })
        expect(((await res.json()) as { error?: { name: string } }).error?.name).toBe('UntrustedMetaError')
      },
      { timeout: 20_000, interval: 500 },
    )
  }, 150_000)
})
