import { readFileSync } from 'node:fs'
import { epochReportTypedData, type EpochReport, slashTypedData } from '@konbini/protocol'
import {
  type Address,
  type BaseError,
  ContractFunctionRevertedError,
  concat,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  parseEther,
  toHex,
} from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { type LocalChain, startAnvil } from './anvil.ts'
import { creditAbi, konbiniTokenAbi, registryAbi, settlementAbi } from './artifacts.ts'
import { type ContractAddresses, DEPLOY_DEFAULTS, deployKonbini } from './deploy.ts'
import { CumulativeTree } from './merkle.ts'
import { compile } from '../scripts/compile.ts'

const chainId = 31337
let anvil: LocalChain
let c: ContractAddresses
const chain = (rpcUrl: string) =>
  defineChain({ id: chainId, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } })
const accounts = (n: number) => Array.from({ length: n }, () => privateKeyToAccount(generatePrivateKey()))
const deployer = privateKeyToAccount(generatePrivateKey())
// three meta nodes, ascending by address (signatures must come in that order)
const metas = accounts(3).sort((a, b) => (a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1))
const operator = privateKeyToAccount(generatePrivateKey())
const payer = privateKeyToAccount(generatePrivateKey())
const archiveCid = toHex('bafy-archive-placeholder')

function clients(account: PrivateKeyAccount) {
  const transport = http(anvil.rpcUrl)
  return { wallet: createWalletClient({ account, chain: chain(anvil.rpcUrl), transport }), pub: createPublicClient({ chain: chain(anvil.rpcUrl), transport }) }
}

async function send(account: PrivateKeyAccount, call: Parameters<ReturnType<typeof clients>['wallet']['writeContract']>[0]) {
  const { wallet, pub } = clients(account)
  const hash = await wallet.writeContract(call)
  const receipt = await pub.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
  return receipt
}

/** The custom error a call reverts with (its name), or 'no revert'. */
async function revertName(call: Promise<unknown>): Promise<string> {
  try {
    await call
    return 'no revert'
  } catch (err) {
    const reverted = (err as BaseError).walk?.((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
    return reverted?.data?.errorName ?? `unexpected: ${(err as Error).message.split('\n')[0]}`
  }
}

const balanceOf = (account: Address) => clients(payer).pub.readContract({ address: c.token, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [account] })

/** The signers' signatures of `report`, packed (65 bytes each) in the order given. */
async function signReport(report: EpochReport, signers: readonly PrivateKeyAccount[]): Promise<Hex> {
  return concat(await Promise.all(signers.map((s) => s.signTypedData(epochReportTypedData(report, chainId, c.settlement)))))
}

function submit(report: EpochReport, signatures: Hex, from = operator) {
  return clients(from).wallet.writeContract({ address: c.settlement, abi: settlementAbi, functionName: 'submitReport', args: [report, signatures] })
}

/** A node registered with stake, a payer's deposit of 100, and epoch 1 settled: the payer spent 30, the operator earned it plus the emission. */
async function firstEpoch() {
  const stake = DEPLOY_DEFAULTS.minNodeStake
  await send(operator, { address: c.token, abi: konbiniTokenAbi, functionName: 'approve', args: [c.registry, stake] })
  await send(operator, { address: c.registry, abi: registryAbi, functionName: 'registerNode', args: [toHex('peer-id-bytes'), stake, '0x'] })
  expect(await clients(operator).pub.readContract({ address: c.registry, abi: registryAbi, functionName: 'operatorStake', args: [operator.address] })).toBe(
    stake,
  )
  const deposit = parseEther('100')
  await send(payer, { address: c.token, abi: konbiniTokenAbi, functionName: 'approve', args: [c.credit, deposit] })
  await send(payer, { address: c.credit, abi: creditAbi, functionName: 'deposit', args: [deposit] })
  const spent = parseEther('30')
  const earned = spent + DEPLOY_DEFAULTS.emissionPerEpoch
  const rewards = new CumulativeTree([{ account: operator.address, amount: earned }])
  const spends = new CumulativeTree([{ account: payer.address, amount: spent }])
  const report = { epoch: 1n, rewardRoot: rewards.root, spendRoot: spends.root, totalRewards: earned, totalSpent: spent, archiveCid }
  await clients(operator).pub.waitForTransactionReceipt({ hash: await submit(report, await signReport(report, metas.slice(0, 2))) })
  return { report, rewards, spends, earned, spent, deposit }
}

describe('contracts on anvil', () => {
  beforeAll(async () => {
    anvil = await startAnvil()
    const test = createTestClient({ mode: 'anvil', chain: chain(anvil.rpcUrl), transport: http(anvil.rpcUrl) })
    for (const a of [deployer, operator, payer, ...metas]) await test.setBalance({ address: a.address, value: parseEther('100') })
  })
  // every test on contracts of its own
  beforeEach(async () => {
    c = await deployKonbini({ rpcUrl: anvil.rpcUrl, chain: chain(anvil.rpcUrl), deployer, metas: metas.map((m) => m.address), quorum: 2 })
    for (const to of [operator, payer])
      await send(deployer, { address: c.token, abi: konbiniTokenAbi, functionName: 'transfer', args: [to.address, parseEther('5000')] })
  })
  afterAll(async () => {
    await anvil?.stop()
  })

  test('default: a node registers with stake, a payer deposits, a 2-of-3 report settles, the operator claims and the payer withdraws what it did not spend', async () => {
    const { report, rewards, spends, earned, spent, deposit } = await firstEpoch()
    const before = await balanceOf(operator.address)
    await send(operator, {
      address: c.settlement,
      abi: settlementAbi,
      functionName: 'claim',
      args: [operator.address, earned, rewards.proof(operator.address)],
    })
    expect((await balanceOf(operator.address)) - before).toBe(earned)

    // the withdrawal waits two settled epochs
    await send(payer, { address: c.credit, abi: creditAbi, functionName: 'requestWithdrawal', args: [deposit - spent] })
    expect(
      await revertName(
        clients(payer).wallet.writeContract({ address: c.credit, abi: creditAbi, functionName: 'withdraw', args: [spent, spends.proof(payer.address)] }),
      ),
    ).toBe('TooEarly')
    for (const epoch of [2n, 3n]) {
      const next = { ...report, epoch }
      await clients(operator).pub.waitForTransactionReceipt({ hash: await submit(next, await signReport(next, metas.slice(1, 3))) })
    }
    const payerBefore = await balanceOf(payer.address)
    await send(payer, { address: c.credit, abi: creditAbi, functionName: 'withdraw', args: [spent, spends.proof(payer.address)] })
    expect((await balanceOf(payer.address)) - payerBefore).toBe(deposit - spent)
  })

  test("error: a report with one signature, a stranger's, a signer twice, an epoch already settled or rewards beyond fees and emission is rejected by name", async () => {
    await firstEpoch()
    const last = await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'lastEpoch' })
    const totalSpent = await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'totalSpent' })
    const totalRewards = await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'totalRewards' })
    const tree = new CumulativeTree([{ account: operator.address, amount: totalRewards }])
    const report = { epoch: last + 1n, rewardRoot: tree.root, spendRoot: tree.root, totalRewards, totalSpent, archiveCid }
    const [a, b] = metas as [PrivateKeyAccount, PrivateKeyAccount]
    const stranger = accounts(1)[0] as PrivateKeyAccount
    expect(await revertName(submit(report, await signReport(report, [a])))).toBe('QuorumNotReached')
    const pair = [a, stranger].sort((x, y) => (x.address.toLowerCase() < y.address.toLowerCase() ? -1 : 1))
    expect(await revertName(submit(report, await signReport(report, pair)))).toBe('NotMeta')
    expect(await revertName(submit(report, await signReport(report, [a, a])))).toBe('SignersNotAscending')
    expect(await revertName(submit(report, await signReport(report, [b, a])))).toBe('SignersNotAscending')
    const old = { ...report, epoch: last }
    expect(await revertName(submit(old, await signReport(old, [a, b])))).toBe('EpochNotNext')
    const allowed = totalSpent + DEPLOY_DEFAULTS.emissionPerEpoch * (last + 1n)
    const greedy = { ...report, totalRewards: allowed + 1n }
    expect(await revertName(submit(greedy, await signReport(greedy, [a, b])))).toBe('RewardsBeyondFeesAndEmission')
    // signed for another report: the digest differs, the recovered signers are strangers
    const signed = await signReport(report, [a, b])
    expect(await revertName(submit({ ...report, totalSpent: totalSpent + 1n }, signed))).toMatch(/NotMeta|SignersNotAscending/)
  })

  test('error: a second claim of the same amount, a wrong proof and a withdrawal beyond unspent credit are rejected by name', async () => {
    const { rewards, earned } = await firstEpoch()
    await send(operator, {
      address: c.settlement,
      abi: settlementAbi,
      functionName: 'claim',
      args: [operator.address, earned, rewards.proof(operator.address)],
    })
    const claim = (amount: bigint, proof: Hex[]) =>
      clients(operator).wallet.writeContract({ address: c.settlement, abi: settlementAbi, functionName: 'claim', args: [operator.address, amount, proof] })
    expect(await revertName(claim(earned, rewards.proof(operator.address)))).toBe('NothingToClaim')
    expect(await revertName(claim(earned + 1n, rewards.proof(operator.address)))).toBe('WrongProof')
    expect(await revertName(claim(earned, [keccak256('0x01')]))).toBe('WrongProof')
    // the payer has 70 unspent: asking for one wei more fails once the delay has passed
    await send(payer, { address: c.credit, abi: creditAbi, functionName: 'requestWithdrawal', args: [parseEther('70') + 1n] })
    const spends = new CumulativeTree([{ account: payer.address, amount: parseEther('30') }])
    const settle = async (epoch: bigint) => {
      const r = { epoch, rewardRoot: rewards.root, spendRoot: spends.root, totalRewards: earned, totalSpent: parseEther('30'), archiveCid }
      await clients(operator).pub.waitForTransactionReceipt({ hash: await submit(r, await signReport(r, metas.slice(0, 2))) })
    }
    const last = await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'lastEpoch' })
    await settle(last + 1n)
    await settle(last + 2n)
    const withdraw = (spent: bigint, proof: Hex[]) =>
      clients(payer).wallet.writeContract({ address: c.credit, abi: creditAbi, functionName: 'withdraw', args: [spent, proof] })
    expect(await revertName(withdraw(parseEther('30'), spends.proof(payer.address)))).toBe('BeyondUnspent')
    // claiming less spend than the tree says is a wrong proof
    expect(await revertName(withdraw(0n, []))).toBe('WrongSpendProof')
  })

  test('behavior: gas — a report with 3 signatures and a later claim, the same with 10× more accounts in the trees', async () => {
    const first = await firstEpoch()
    await send(operator, {
      address: c.settlement,
      abi: settlementAbi,
      functionName: 'claim',
      args: [operator.address, first.earned, first.rewards.proof(operator.address)],
    })
    const gasFor = async (accountsInTrees: number) => {
      const earners = [operator, ...accounts(accountsInTrees - 1)]
      const last = await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'lastEpoch' })
      const totalSpent = await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'totalSpent' })
      const claimed = await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'claimed', args: [operator.address] })
      const operatorEarned = claimed + parseEther('1')
      const entries = earners.map((e, i) => ({ account: e.address, amount: i === 0 ? operatorEarned : BigInt(i) }))
      const rewards = new CumulativeTree(entries)
      const spends = new CumulativeTree(earners.map((e, i) => ({ account: e.address, amount: BigInt(i) })))
      const totalRewards = entries.reduce((n, e) => n + e.amount, 0n)
      const report = { epoch: last + 1n, rewardRoot: rewards.root, spendRoot: spends.root, totalRewards, totalSpent, archiveCid }
      const submitted = await clients(operator).pub.waitForTransactionReceipt({ hash: await submit(report, await signReport(report, metas)) })
      const claimedNow = await send(operator, {
        address: c.settlement,
        abi: settlementAbi,
        functionName: 'claim',
        args: [operator.address, operatorEarned, rewards.proof(operator.address)],
      })
      return { report: submitted.gasUsed, claim: claimedNow.gasUsed }
    }
    const small = await gasFor(10)
    const large = await gasFor(100)
    expect(small.report).toBeLessThanOrEqual(75_000n)
    expect(small.claim).toBeLessThanOrEqual(65_000n)
    expect(large.report).toBeLessThanOrEqual(75_000n)
    expect(large.claim).toBeLessThanOrEqual(65_000n)
    console.log(`gas: report ${small.report} / ${large.report}, claim ${small.claim} / ${large.claim} (10 / 100 accounts)`)
  })

  test('behavior: a meta node voted out by more than half the stake can no longer sign a report; one voted in can', async () => {
    await firstEpoch()
    const [a, b] = metas as [PrivateKeyAccount, PrivateKeyAccount]
    // the operator holds all the bonded stake: its vote alone kicks a
    await send(operator, { address: c.registry, abi: registryAbi, functionName: 'vote', args: [a.address] })
    expect(await clients(operator).pub.readContract({ address: c.registry, abi: registryAbi, functionName: 'isMeta', args: [a.address] })).toBe(false)
    expect(await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'isMeta', args: [a.address] })).toBe(false)
    const tree = new CumulativeTree([{ account: operator.address, amount: parseEther('40') }])
    const report = { epoch: 2n, rewardRoot: tree.root, spendRoot: tree.root, totalRewards: parseEther('40'), totalSpent: parseEther('30'), archiveCid }
    expect(await revertName(submit(report, await signReport(report, [a, b])))).toBe('NotMeta')
    // its stake backs a vote: it cannot unbond until the vote is withdrawn
    const node = keccak256(toHex('peer-id-bytes'))
    expect(
      await revertName(clients(operator).wallet.writeContract({ address: c.registry, abi: registryAbi, functionName: 'requestUnstake', args: [node] })),
    ).toBe('VotesActive')
    // a newcomer voted in signs with b
    const newcomer = accounts(1)[0] as PrivateKeyAccount
    await send(operator, { address: c.registry, abi: registryAbi, functionName: 'vote', args: [newcomer.address] })
    const pair = [b, newcomer].sort((x, y) => (x.address.toLowerCase() < y.address.toLowerCase() ? -1 : 1))
    await clients(operator).pub.waitForTransactionReceipt({ hash: await submit(report, await signReport(report, pair)) })
    expect(await clients(operator).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'lastEpoch' })).toBe(2n)
  })

  test('behavior: a quorum slashes a node once per nonce; an unbonding stake is withdrawable only after the delay', async () => {
    await firstEpoch()
    const node = keccak256(toHex('peer-id-bytes'))
    const order = { node, amount: parseEther('100'), nonce: 7n }
    const sign = (signers: PrivateKeyAccount[]) =>
      Promise.all(signers.map((m) => m.signTypedData(slashTypedData(order, chainId, c.registry)))).then((sigs) => concat(sigs))
    const slash = (sigs: Hex) =>
      clients(operator).wallet.writeContract({ address: c.registry, abi: registryAbi, functionName: 'slash', args: [node, order.amount, order.nonce, sigs] })
    expect(await revertName(slash(await sign(metas.slice(0, 1))))).toBe('QuorumNotReached')
    await clients(operator).pub.waitForTransactionReceipt({ hash: await slash(await sign(metas.slice(0, 2))) })
    const [, stake] = await clients(operator).pub.readContract({ address: c.registry, abi: registryAbi, functionName: 'nodes', args: [node] })
    expect(stake).toBe(DEPLOY_DEFAULTS.minNodeStake - order.amount)
    expect(await revertName(slash(await sign(metas.slice(0, 2))))).toBe('NonceUsed')

    await send(operator, { address: c.registry, abi: registryAbi, functionName: 'requestUnstake', args: [node] })
    const withdraw = () => clients(operator).wallet.writeContract({ address: c.registry, abi: registryAbi, functionName: 'withdrawStake', args: [node] })
    expect(await revertName(withdraw())).toBe('StillBonded')
    const testClient = createTestClient({ mode: 'anvil', chain: chain(anvil.rpcUrl), transport: http(anvil.rpcUrl) })
    await testClient.increaseTime({ seconds: DEPLOY_DEFAULTS.unbondingSeconds })
    await testClient.mine({ blocks: 1 })
    const before = await balanceOf(operator.address)
    await clients(operator).pub.waitForTransactionReceipt({ hash: await withdraw() })
    expect((await balanceOf(operator.address)) - before).toBe(DEPLOY_DEFAULTS.minNodeStake - order.amount)
  })

  test('default: src/artifacts.ts is what contracts/*.sol compile to', () => {
    expect(compile()).toBe(readFileSync(new URL('./artifacts.ts', import.meta.url), 'utf8'))
  })

  test("error: a stranger cannot relink the vault or registry, pay itself from the vault, or edit the settlement's whitelist", async () => {
    const stranger = accounts(1)[0] as PrivateKeyAccount
    await createTestClient({ mode: 'anvil', chain: chain(anvil.rpcUrl), transport: http(anvil.rpcUrl) }).setBalance({
      address: stranger.address,
      value: parseEther('1'),
    })
    const w = clients(stranger).wallet
    expect(await revertName(w.writeContract({ address: c.credit, abi: creditAbi, functionName: 'link', args: [stranger.address] }))).toBe('AlreadyLinked')
    expect(await revertName(w.writeContract({ address: c.registry, abi: registryAbi, functionName: 'link', args: [stranger.address] }))).toBe('AlreadyLinked')
    expect(await revertName(w.writeContract({ address: c.credit, abi: creditAbi, functionName: 'payOut', args: [stranger.address, 1n] }))).toBe(
      'OnlySettlement',
    )
    expect(await revertName(w.writeContract({ address: c.settlement, abi: settlementAbi, functionName: 'metaChanged', args: [stranger.address, true] }))).toBe(
      'OnlyRegistry',
    )
    expect(await clients(stranger).pub.readContract({ address: c.settlement, abi: settlementAbi, functionName: 'isMeta', args: [stranger.address] })).toBe(
      false,
    )
  })
})
