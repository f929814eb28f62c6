import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ANVIL_ACCOUNT_0, creditAbi, DEPLOY_DEFAULTS, konbiniTokenAbi, registryAbi, settlementAbi } from '@konbini/contracts'
import { devnetFile } from '@konbini/protocol'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Address, createPublicClient, createTestClient, createWalletClient, http, keccak256, parseEther, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { registryNodeId } from '../src/chain/node-registration.ts'
import { DEVNET_CREDIT, PORTAL_WALLET_CREDIT } from '../src/cli/devnet-chain.ts'
import { loadOperatorKey, loadPeerKey } from '../src/keys.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

describe('a devnet with its chain (what npm start runs)', () => {
  let net: TestNetwork
  let chain: NonNullable<TestNetwork['file']['chain']>
  const read = <T>(call: Parameters<ReturnType<typeof createPublicClient>['readContract']>[0]) =>
    createPublicClient({ transport: http(chain.rpcUrl) }).readContract(call) as Promise<T>

  beforeAll(async () => {
    net = await startTestNetwork({ resources: 2, chain: true })
    const file = devnetFile.parse(JSON.parse(await readFile(join(net.dataDir, 'devnet.json'), 'utf8')))
    if (file.chain === undefined) throw new Error('devnet.json has no chain section')
    chain = file.chain
  })
  afterAll(async () => {
    await net?.stop()
  })

  test('default: devnet.json names the chain and its contracts; anvil listens on 127.0.0.1 with chain id 31337', async () => {
    expect(new URL(chain.rpcUrl).hostname).toBe('127.0.0.1')
    expect(chain.chainId).toBe(31337)
    expect(await createPublicClient({ transport: http(chain.rpcUrl) }).getChainId()).toBe(31337)
    for (const address of Object.values(chain.contracts))
      expect(await createPublicClient({ transport: http(chain.rpcUrl) }).getCode({ address: address as Address })).not.toBe('0x')
  })

  test('behavior: the meta node is whitelisted (registry and settlement), every resource node is registered with the minimum stake under its operator', async () => {
    for (const meta of net.file.metaAddresses ?? []) {
      expect(await read<boolean>({ address: chain.contracts.registry as Address, abi: registryAbi, functionName: 'isMeta', args: [meta as Address] })).toBe(
        true,
      )
      expect(await read<boolean>({ address: chain.contracts.settlement as Address, abi: settlementAbi, functionName: 'isMeta', args: [meta as Address] })).toBe(
        true,
      )
    }
    for (const [i, node] of net.file.nodes.entries()) {
      const operator = privateKeyToAccount((await readFile(join(net.dataDir, `node${i + 1}`, 'operator.key'), 'utf8')).trim() as `0x${string}`)
      const id = keccak256(toHex(peerIdFromString(node.peerId).toMultihash().bytes))
      const [owner, stake] = await read<[Address, bigint, bigint]>({
        address: chain.contracts.registry as Address,
        abi: registryAbi,
        functionName: 'nodes',
        args: [id],
      })
      expect(owner).toBe(operator.address)
      expect(stake).toBe(DEPLOY_DEFAULTS.minNodeStake)
    }
    expect(await read<bigint>({ address: chain.contracts.registry as Address, abi: registryAbi, functionName: 'totalStake' })).toBe(
      DEPLOY_DEFAULTS.minNodeStake * BigInt(net.file.nodes.length),
    )
  })

  test("behavior: the dev account holds the supply less the emission reserve, the nodes' stake and its starting credit", async () => {
    const dev = privateKeyToAccount(net.file.devKey as `0x${string}`)
    const balance = await read<bigint>({ address: chain.contracts.token as Address, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [dev.address] })
    expect(balance).toBe(
      DEPLOY_DEFAULTS.supply - DEPLOY_DEFAULTS.reserve - DEPLOY_DEFAULTS.minNodeStake * BigInt(net.file.nodes.length) - DEVNET_CREDIT - PORTAL_WALLET_CREDIT,
    )
    // the portal's devnet wallet (anvil's account 0) has credit of its own
    expect(await read<bigint>({ address: chain.contracts.credit as Address, abi: creditAbi, functionName: 'deposited', args: [ANVIL_ACCOUNT_0] })).toBe(
      PORTAL_WALLET_CREDIT,
    )
  })

  test('behavior: konbini prepay deposits credit and konbini balance shows it, to the wei', async () => {
    const dev = privateKeyToAccount(net.file.devKey as `0x${string}`)
    const tokensBefore = await read<bigint>({ address: chain.contracts.token as Address, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [dev.address] })
    const creditBefore = await read<bigint>({ address: chain.contracts.credit as Address, abi: creditAbi, functionName: 'deposited', args: [dev.address] })
    expect(creditBefore).toBe(DEVNET_CREDIT)
    const prepay = await net.cli(['prepay', '25.5', '--json'])
    expect(prepay.code, prepay.stderr).toBe(0)
    expect(JSON.parse(prepay.stdout)).toMatchObject({ account: dev.address, amount: parseEther('25.5').toString() })
    const balance = await net.cli(['balance', '--json'])
    expect(balance.code, balance.stderr).toBe(0)
    const shown = JSON.parse(balance.stdout)
    expect(shown.credit.deposited).toBe((creditBefore + parseEther('25.5')).toString())
    expect(BigInt(shown.tokens)).toBe(tokensBefore - parseEther('25.5'))
    expect(await read<bigint>({ address: chain.contracts.credit as Address, abi: creditAbi, functionName: 'deposited', args: [dev.address] })).toBe(
      creditBefore + parseEther('25.5'),
    )
  })

  test.each(['-3', '0', 'abc', '1.1234567890123456789'])('error: konbini prepay %s fails with one sentence and moves nothing', async (amount) => {
    const before = await net.cli(['balance', '--json'])
    const res = await net.cli(['prepay', amount])
    expect(res.code).not.toBe(0)
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
    expect(res.stderr).toMatch(/is not an amount of KBT|Unknown option '-3'/)
    expect((await net.cli(['balance', '--json'])).stdout).toBe(before.stdout)
  })

  test('error: prepaying more than the account holds says so and moves nothing', async () => {
    const stranger = `0x${'42'.repeat(32)}`
    const res = await net.cli(['prepay', '1', '--key', stranger])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toMatch(/You hold 0 KBT, less than the 1 KBT asked/)
  })

  test('behavior: konbini register stakes a new node by its operator key; registering it again, or an unfunded one, fails with one sentence', async () => {
    const again = await net.cli(['register', '--data', join(net.dataDir, 'node1')])
    expect(again.code).not.toBe(0)
    expect(again.stderr.trim()).toBe('konbini: This node is already registered.')

    const unfunded = join(net.workDir, 'unfunded-node')
    const broke = await net.cli(['register', '--data', unfunded])
    expect(broke.code).not.toBe(0)
    expect(broke.stderr.trim().split('\n')).toHaveLength(1)
    expect(broke.stderr).toMatch(/no ETH to pay for gas|does not hold enough KBT/)

    const dir = join(net.workDir, 'new-node')
    const operator = await loadOperatorKey(dir)
    const peerKey = await loadPeerKey(dir)
    const test = createTestClient({ mode: 'anvil', transport: http(chain.rpcUrl) })
    await test.setBalance({ address: operator.address, value: parseEther('1') })
    const dev = createWalletClient({ account: privateKeyToAccount(net.file.devKey as `0x${string}`), transport: http(chain.rpcUrl) })
    const pub = createPublicClient({ transport: http(chain.rpcUrl) })
    const stake = parseEther('1500')
    await pub.waitForTransactionReceipt({
      hash: await dev.writeContract({
        chain: null,
        address: chain.contracts.token as Address,
        abi: konbiniTokenAbi,
        functionName: 'transfer',
        args: [operator.address, stake],
      }),
    })
    const res = await net.cli(['register', '--data', dir, '--stake', '1500', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout)).toMatchObject({ node: registryNodeId(peerKey), operator: operator.address, stake: stake.toString() })
    const [owner, staked] = await read<[Address, bigint, bigint]>({
      address: chain.contracts.registry as Address,
      abi: registryAbi,
      functionName: 'nodes',
      args: [registryNodeId(peerKey)],
    })
    expect([owner, staked]).toEqual([operator.address, stake])
  })

  test('behavior: konbini unstake starts unbonding, refuses to pay early, and pays the stake back after the delay', async () => {
    const dir = join(net.dataDir, 'node2')
    const operator = await loadOperatorKey(dir)
    const first = await net.cli(['unstake', '--data', dir, '--json'])
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout).state).toBe('unbonding')
    const early = await net.cli(['unstake', '--data', dir])
    expect(early.code).not.toBe(0)
    expect(early.stderr).toMatch(/is unbonding until .*; its stake cannot be withdrawn before then\./)
    const test = createTestClient({ mode: 'anvil', transport: http(chain.rpcUrl) })
    await test.increaseTime({ seconds: DEPLOY_DEFAULTS.unbondingSeconds })
    await test.mine({ blocks: 1 })
    const before = await read<bigint>({ address: chain.contracts.token as Address, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [operator.address] })
    const paid = await net.cli(['unstake', '--data', dir, '--json'])
    expect(paid.code, paid.stderr).toBe(0)
    expect(JSON.parse(paid.stdout)).toMatchObject({ state: 'withdrawn', amount: DEPLOY_DEFAULTS.minNodeStake.toString() })
    const after = await read<bigint>({ address: chain.contracts.token as Address, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [operator.address] })
    expect(after - before).toBe(DEPLOY_DEFAULTS.minNodeStake)
  })
})
