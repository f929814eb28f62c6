import { join } from 'node:path'
import { createKonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import type { RewardsResponse } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { type Address, type Hex, parseEther } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { type Devnet, startDevnet } from '../src/cli/devnet.ts'
import { devnetChainClients } from './chain.ts'
import { writeRandomFile } from './files.ts'
import { loadOperatorKey } from '../src/keys.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

const options = {
  resources: 2,
  chain: true,
  metaEnv: { KONBINI_EPOCH_SECONDS: '6', KONBINI_EPOCH_GRACE_SECONDS: '3', KONBINI_TICKET_SECONDS: '10' },
}

/**
 * `npm start` twice on the same `.konbini`: the chain lives on with the blocks and the meta
 * node's index — contracts, stakes, credit and settled epochs — and the restarted network keeps
 * settling on it (a fresh chain would have its last settled epoch at 0 while the meta node goes on
 * from where it was).
 */
describe('a devnet started again on the same data folder', () => {
  let net: TestNetwork
  let again: Devnet | undefined
  let libp2p: Libp2p
  const user = privateKeyToAccount(generatePrivateKey())

  beforeAll(async () => {
    net = await startTestNetwork(options)
    libp2p = await createNodeClientLibp2p()
  })
  afterAll(async () => {
    await libp2p?.stop()
    await again?.stop()
    await net?.stop()
  })

  test('behavior: resumes its chain (contracts, credit, settled epochs, stakes) and settles the traffic after the restart on it', async () => {
    const first = devnetChainClients(net.file.chain as NonNullable<TestNetwork['file']['chain']>)
    await first.fund(privateKeyToAccount(net.file.devKey as Hex), user, parseEther('2'), parseEther('1'))
    const path = join(net.workDir, 'before.bin')
    await writeRandomFile(path, 3 * 1024 * 1024 + 5)
    const source = await fsSource(path)
    const metaUrls = () => (again ?? net.devnet).file.metaUrls
    const nodeIndex = (peerId: string) => net.file.nodes.findIndex((n) => n.peerId === peerId)
    const { root, holders } = await createKonbiniClient({ metaUrls: metaUrls(), account: user, libp2p }).put(source.candidates(), {
      name: source.name,
      size: source.size,
      replicas: 2,
    })
    const uploadEpoch = (await (await fetch(new URL('/v1/epoch', metaUrls()[0]))).json()) as { epoch: number }
    await first.settledThrough(uploadEpoch.epoch)
    const settledBefore = await first.lastEpoch()
    const deposited = await first.pub.readContract({ ...first.credit, functionName: 'deposited', args: [user.address] })
    const operators = await Promise.all(holders.map(async (h) => (await loadOperatorKey(join(net.dataDir, `node${nodeIndex(h) + 1}`))).address))
    // storing the file earned its holders
    const earnedBefore = await vi.waitFor(async () => {
      let sum = 0n
      for (const o of operators) {
        const r = await rewardsOf(o)
        expect(r.epoch).toBeGreaterThanOrEqual(uploadEpoch.epoch)
        sum += BigInt(r.cumulative)
      }
      expect(sum).toBeGreaterThan(0n)
      return sum
    })
    await net.devnet.stop()

    again = await startDevnet({ dataDir: net.dataDir, web: false, basePort: 0, log: () => {}, ...options })
    expect(again.chain?.resumed).toBe(true)
    expect(again.file.chain?.contracts).toEqual(net.file.chain?.contracts)
    const second = devnetChainClients(again.file.chain as NonNullable<TestNetwork['file']['chain']>)
    expect(await second.lastEpoch()).toBeGreaterThanOrEqual(settledBefore)
    expect(await second.pub.readContract({ ...second.credit, functionName: 'deposited', args: [user.address] })).toBe(deposited)

    // the file stored before downloads, paid; that epoch settles on the resumed chain and a holder's operator earns more
    const download = await createKonbiniClient({ metaUrls: metaUrls(), account: user, libp2p }).open(root)
    expect(download.ticket.ticket.payer.toLowerCase()).toBe(user.address.toLowerCase())
    if (download.entry.type !== 'file') throw new Error('not a file')
    let bytes = 0
    for await (const chunk of download.entry.content({ blockReadConcurrency: download.readAhead })) bytes += chunk.byteLength
    await download.finish()
    expect(bytes).toBe(source.size)
    const last = Math.max(...download.pool.lease.all().map((g) => g.ticket.ticket.epoch))
    await second.settledThrough(last)
    await vi.waitFor(async () => expect((await rewardsOf(operators[0] as Address)).epoch).toBeGreaterThanOrEqual(last))
    // the holders that served the download earned on top of what they had before the restart
    let after = 0n
    for (const o of operators) after += BigInt((await rewardsOf(o)).cumulative)
    expect(after).toBeGreaterThan(earnedBefore)
  }, 180_000)

  async function rewardsOf(account: Address): Promise<RewardsResponse> {
    return (await (await fetch(new URL(`/v1/rewards/${account}`, (again ?? net.devnet).file.metaUrls[0]))).json()) as RewardsResponse
  }
})
