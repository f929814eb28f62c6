import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { creditAbi, konbiniTokenAbi, settlementAbi } from '@konbini/contracts'
import { epochArchive } from '@konbini/protocol'
import { CID } from 'multiformats/cid'
import { type Address, createPublicClient, type Hex, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { sha256File, writeRandomFile } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

/**
 * The chain layer through the real `konbini` CLI on a devnet with its chain (6-second epochs):
 * `epoch`, `rewards`, `claim` and the two steps of `withdraw`, each balance checked on chain.
 */
describe('konbini epoch, rewards, claim and withdraw on a chain devnet', () => {
  let net: TestNetwork
  let chain: NonNullable<TestNetwork['file']['chain']>
  const pub = () => createPublicClient({ transport: http(chain.rpcUrl) })
  const balanceOf = (address: Address) =>
    pub().readContract({ address: chain.contracts.token as Address, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [address] })
  const pendingWithdrawal = (address: Address) =>
    pub().readContract({ address: chain.contracts.credit as Address, abi: creditAbi, functionName: 'pendingWithdrawal', args: [address] })
  const lastEpoch = () => pub().readContract({ address: chain.contracts.settlement as Address, abi: settlementAbi, functionName: 'lastEpoch' })
  const nonceOf = (address: Address) => pub().getTransactionCount({ address })
  /** Runs the CLI with --json and returns its document (fails the test, with stderr, on a non-zero exit). */
  const json = async (args: string[]) => {
    const res = await net.cli([...args, '--json'])
    expect(res.code, res.stderr).toBe(0)
    return JSON.parse(res.stdout)
  }
  /** Runs the CLI expecting a failure: one sentence on stderr, nothing on stdout. */
  const fails = async (args: string[]) => {
    const res = await net.cli(args)
    expect(res.code).not.toBe(0)
    expect(res.stdout).toBe('')
    expect(res.stderr.trim().split('\n'), res.stderr).toHaveLength(1)
    expect(res.stderr).not.toMatch(/\n\s+at /)
    return res.stderr.trim()
  }
  const dev = () => privateKeyToAccount(net.file.devKey as Hex)
  /** Runs `run` with the meta node's process paused (SIGSTOP), so no epoch report lands meanwhile. */
  const withMetaPaused = async <T>(run: () => Promise<T>): Promise<T> => {
    const meta = net.devnet.metas[0]?.child
    if (meta === undefined) throw new Error('the devnet has no meta process')
    meta.kill('SIGSTOP')
    try {
      // a report transaction already sent is mined by now
      await new Promise((resolve) => setTimeout(resolve, 300))
      return await run()
    } finally {
      meta.kill('SIGCONT')
    }
  }
  const nodeDirs = () => net.file.nodes.map((_, i) => join(net.dataDir, `node${i + 1}`))
  const operatorOf = async (dir: string) => privateKeyToAccount((await readFile(join(dir, 'operator.key'), 'utf8')).trim() as Hex)

  beforeAll(async () => {
    net = await startTestNetwork({
      resources: 2,
      chain: true,
      metaEnv: { KONBINI_EPOCH_SECONDS: '6', KONBINI_EPOCH_GRACE_SECONDS: '3', KONBINI_TICKET_SECONDS: '10' },
      resourceEnv: { KONBINI_RECEIPT_FORWARD_MS: '300' },
    })
    if (net.file.chain === undefined) throw new Error('devnet.json has no chain section')
    chain = net.file.chain
  })
  afterAll(async () => {
    await net?.stop()
  })

  test('behavior: konbini epoch --json gives { epoch, endsAt, lastReport } with the report as the chain settled it', async () => {
    const shown = await json(['epoch'])
    expect(Object.keys(shown).sort()).toEqual(['endsAt', 'epoch', 'lastReport'])
    expect(shown.epoch).toBeGreaterThan(0)
    expect(shown.endsAt).toBeGreaterThan(Date.now() / 1000 - 60)
    // wait for a settled report to check its shape against the chain
    const settled = await vi.waitFor(
      async () => {
        const s = await json(['epoch'])
        expect(s.lastReport).not.toBeNull()
        return s
      },
      { timeout: 60_000, interval: 1000 },
    )
    expect(Object.keys(settled.lastReport).sort()).toEqual(['archiveCid', 'epoch', 'gasUsed', 'root', 'txHash'])
    expect(settled.lastReport.root).toMatch(/^0x[0-9a-f]{64}$/)
    expect(settled.lastReport.gasUsed).toMatch(/^[1-9][0-9]*$/)
    const receipt = await pub().getTransactionReceipt({ hash: settled.lastReport.txHash })
    expect(receipt.status).toBe('success')
    expect(receipt.gasUsed.toString()).toBe(settled.lastReport.gasUsed)
    expect(Number(await lastEpoch())).toBeGreaterThanOrEqual(settled.lastReport.epoch)
    const text = await net.cli(['epoch'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^Epoch \d+ is open until \S+Z\. The last report settled on chain is epoch \d+ \(reward root 0x[0-9a-f]{64}, /)
  })

  test('behavior: paid traffic is settled; the receipts archive each report names downloads with konbini get and covers the download; konbini rewards shows it and konbini claim pays the serving operator exactly once', async () => {
    const file = join(net.workDir, 'paid.bin')
    const size = 3 * 1024 * 1024 + 4321
    await writeRandomFile(file, size)
    const { epoch: putEpoch } = await json(['epoch'])
    const { root } = await json(['put', file, '--replicas', '2'])
    const out = join(net.workDir, 'paid.out')
    await json(['get', root, '-o', out])
    expect(await sha256File(out)).toBe(await sha256File(file))
    const { epoch: getEpoch } = await json(['epoch'])
    await vi.waitFor(async () => expect((await json(['epoch'])).lastReport?.epoch ?? 0).toBeGreaterThanOrEqual(getEpoch), {
      timeout: 60_000,
      interval: 1000,
    })

    // each of those epochs' reports names its receipts archive: konbini get fetches it from the
    // network, and the download's receipts in them (signed by this key) cover the whole file
    const logs = await pub().getContractEvents({
      address: chain.contracts.settlement as Address,
      abi: settlementAbi,
      eventName: 'ReportSubmitted',
      fromBlock: 0n,
    })
    let receipted = 0
    for (const log of logs.filter((l) => Number(l.args.epoch) >= putEpoch && Number(l.args.epoch) <= getEpoch)) {
      const cid = CID.decode(Buffer.from((log.args.archiveCid as Hex).slice(2), 'hex')).toString()
      const path = join(net.workDir, `archive-${log.args.epoch}.json`)
      await json(['get', cid, '-o', path])
      const archive = epochArchive.parse(JSON.parse(await readFile(path, 'utf8')))
      expect(archive.epoch).toBe(Number(log.args.epoch))
      const downloads = new Set(archive.tickets.map((t) => t.ticket.id))
      for (const { receipt } of archive.receipts)
        if (downloads.has(receipt.ticket) && receipt.consumer.toLowerCase() === dev().address.toLowerCase()) receipted += receipt.bytes
    }
    expect(receipted).toBeGreaterThanOrEqual(size)

    let served = 0
    for (const dir of nodeDirs()) {
      const operator = await operatorOf(dir)
      const rewards = await json(['rewards', '--data', dir])
      expect(Object.keys(rewards).sort()).toEqual(['account', 'claimable', 'claimed', 'cumulative'])
      expect(rewards.account).toBe(operator.address)
      expect(BigInt(rewards.claimable)).toBe(BigInt(rewards.cumulative) - BigInt(rewards.claimed))
      // the same account by address, as anyone may look it up
      expect(await json(['rewards', operator.address.toLowerCase()])).toEqual(rewards)
      const text = await net.cli(['rewards', '--data', dir])
      expect(text.stdout).toMatch(
        new RegExp(`^${operator.address} earned [0-9.]+ KBT in the settled epochs \\(to epoch \\d+\\), has claimed 0 KBT and can claim`),
      )
      if (BigInt(rewards.claimable) === 0n) continue
      served++

      const before = await balanceOf(operator.address)
      const claim = await json(['claim', '--data', dir])
      expect(Object.keys(claim).sort()).toEqual(['amount', 'gasUsed', 'txHash'])
      expect(claim.amount).toBe(rewards.claimable)
      expect((await balanceOf(operator.address)) - before).toBe(BigInt(claim.amount))
      expect(claim.gasUsed).toMatch(/^[1-9][0-9]*$/)

      const after = await json(['rewards', '--data', dir])
      expect(after).toMatchObject({ account: operator.address, claimable: '0', claimed: rewards.cumulative })

      const nonce = await nonceOf(operator.address)
      expect(await fails(['claim', '--data', dir, '--json'])).toMatch(
        /^konbini: 0x[0-9a-fA-F]{40} has nothing to claim: the .* KBT it earned in the settled epochs are already paid\.$/,
      )
      expect(await nonceOf(operator.address)).toBe(nonce)
      expect(await balanceOf(operator.address)).toBe(before + BigInt(claim.amount))
    }
    expect(served).toBeGreaterThan(0)
  })

  test('error: konbini rewards with an invalid address, or a --data without an operator key, fails with one sentence', async () => {
    expect(await fails(['rewards', '0x1234', '--json'])).toBe('konbini: "0x1234" is not an account address: give 0x followed by 40 hexadecimal digits.')
    expect(await fails(['rewards', '--data', join(net.workDir, 'no-such-node')])).toMatch(/holds no operator key \(operator\.key\)/)
  })

  test('error: withdrawing more than the unspent credit fails up front and moves nothing', async () => {
    const account = dev().address
    const [balance, nonce] = await Promise.all([balanceOf(account), nonceOf(account)])
    expect(await fails(['withdraw', '999999', '--json'])).toMatch(
      /^konbini: You asked to withdraw 999999 KBT but only [0-9.]+ KBT of your traffic credit is unspent\.$/,
    )
    expect(await fails(['withdraw', 'lots'])).toMatch(/is not an amount of KBT/)
    expect(await pendingWithdrawal(account)).toEqual([0n, 0n])
    expect(await balanceOf(account)).toBe(balance)
    expect(await nonceOf(account)).toBe(nonce)
  })

  test('behavior: konbini withdraw requests, refuses before the delay naming the epoch, then pays exactly 1 KBT', async () => {
    const account = dev().address
    const requested = await json(['withdraw', '1'])
    expect(Object.keys(requested).sort()).toEqual(['notBeforeEpoch', 'requested', 'txHash'])
    expect(requested.requested).toBe(parseEther('1').toString())
    const [pendingAmount, notBefore] = await pendingWithdrawal(account)
    expect(pendingAmount).toBe(parseEther('1'))
    expect(requested.notBeforeEpoch).toBe(Number(notBefore))

    // no report may settle while the early calls run (a busy meta node can settle a backlog at once)
    await withMetaPaused(async () => {
      expect(await lastEpoch()).toBeLessThan(notBefore)
      const early = await fails(['withdraw', '--json'])
      expect(early).toMatch(
        new RegExp(
          `^konbini: Your withdrawal of 1 KBT waits for epoch ${requested.notBeforeEpoch} to be settled on chain \\(the last settled epoch is \\d+\\)`,
        ),
      )
      expect(await fails(['withdraw', '2'])).toMatch(/already pending/)
    })
    expect(await pendingWithdrawal(account)).toEqual([parseEther('1'), notBefore])

    await vi.waitFor(async () => expect(await lastEpoch()).toBeGreaterThanOrEqual(notBefore), { timeout: 60_000, interval: 500 })
    const before = await balanceOf(account)
    const paid = await json(['withdraw'])
    expect(Object.keys(paid).sort()).toEqual(['amount', 'gasUsed', 'txHash'])
    expect(paid.amount).toBe(parseEther('1').toString())
    expect((await balanceOf(account)) - before).toBe(10n ** 18n)
    expect(await pendingWithdrawal(account)).toEqual([0n, 0n])
  })
})
