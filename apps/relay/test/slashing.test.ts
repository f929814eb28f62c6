import { randomBytes } from 'node:crypto'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createKonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { registryAbi } from '@konbini/contracts'
import { AUDIT_FAILURE_LIMIT, slashNonce } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { type Address, parseEther } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { registryNodeId } from '../src/chain/node-registration.ts'
import { devnetChainClients } from './chain.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { postForError } from './wire.ts'

/**
 * Past the audit threshold, stake answers for lost data: a staked node that throws away what it
 * reported fails its audits, and the meta quorum (k = 1 on the devnet) burns half its stake in the
 * Registry — once. A stranger asking a meta node to co-sign a slash of an honest node gets nothing.
 */
describe('slashing by meta quorum', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  const owner = privateKeyToAccount(generatePrivateKey())
  const stakeOf = async (peerId: string) => {
    const chain = net.file.chain
    if (chain === undefined) throw new Error('no chain')
    const registry = { address: chain.contracts.registry as Address, abi: registryAbi } as const
    const [, stake] = await devnetChainClients(chain).pub.readContract({ ...registry, functionName: 'nodes', args: [registryNodeId(peerId)] })
    return BigInt(stake)
  }

  beforeAll(async () => {
    const fast = { KONBINI_AUDIT_INTERVAL_MS: '1000', KONBINI_REPAIR_INTERVAL_MS: '1000', KONBINI_REPAIR_AFTER_SECONDS: '2' }
    net = await startTestNetwork({ resources: 4, chain: true, metaEnv: fast })
    libp2p = await createNodeClientLibp2p()
    if (net.file.chain === undefined) throw new Error('devnet.json has no chain section')
    // uploads are paid traffic: the owner prepays credit
    await devnetChainClients(net.file.chain).fund(privateKeyToAccount(net.file.devKey as `0x${string}`), owner, parseEther('2'), parseEther('1'))
  }, 180_000)
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test("error: a stranger's request to co-sign a slash of an honest node is refused (SlashUnprovenError) after the meta node audits it", async () => {
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: owner, libp2p, chainId: net.file.chain?.chainId })
    const content = new Uint8Array(randomBytes(300_000))
    const { root, holders } = await client.put([{ path: 'kept.bin', content }], { name: 'kept.bin', size: content.byteLength })
    const honest = holders[0] as string
    const before = await stakeOf(honest)
    const answer = await postForError(net.file.metaUrls[0] as string, '/v1/slashes/cosign', {
      peerId: honest,
      root,
      amount: (before / 2n).toString(),
      nonce: slashNonce(honest).toString(),
    })
    expect(answer).toEqual({ status: 409, name: 'SlashUnprovenError' })
    expect(await stakeOf(honest)).toBe(before)
  }, 60_000)

  test('behavior: a staked node that throws away its replicas fails its audits past the limit and loses half its stake, once', async () => {
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: owner, libp2p, chainId: net.file.chain?.chainId })
    // four replicas on four nodes: every file is on the victim
    for (let i = 0; i < AUDIT_FAILURE_LIMIT + 1; i++) {
      const content = new Uint8Array(randomBytes(200_000 + i))
      await client.put([{ path: `r${i}.bin`, content }], { name: `r${i}.bin`, size: content.byteLength, replicas: 4 })
    }
    const victim = net.file.nodes[3] as { peerId: string }
    const staked = await stakeOf(victim.peerId)
    expect(staked).toBeGreaterThan(0n)
    const blocks = join(net.dataDir, 'node4', 'blocks')
    for (const shard of await readdir(blocks)) await rm(join(blocks, shard), { recursive: true, force: true })
    await expect.poll(() => stakeOf(victim.peerId), { timeout: 60_000, interval: 1000 }).toBe(staked - staked / 2n)
    // once: further failures burn nothing more
    await new Promise((r) => setTimeout(r, 3000))
    expect(await stakeOf(victim.peerId)).toBe(staked - staked / 2n)
    for (const other of net.file.nodes.slice(0, 3)) expect(await stakeOf(other.peerId)).toBe(staked)
  }, 120_000)
})
