import { signHeartbeat } from '@konbini/browser-node'
import { DEPLOY_DEFAULTS } from '@konbini/contracts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createPublicClient, createWalletClient, defineChain, type Hex, http } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { registerNode } from '../src/chain/node-registration.ts'
import { devnetChainClients } from './chain.ts'
import { startIdentityServer } from './identity-server.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { postForError } from './wire.ts'

/**
 * A node earns its place with stake: before, any node that signed its heartbeat was placed on.
 * Now a full node is registered by a meta node with a chain only when the Registry holds its
 * stake under the operator that signs for it.
 */
describe('a full node is placeable only when staked on chain', () => {
  let net: TestNetwork
  let server: Awaited<ReturnType<typeof startIdentityServer>>
  let url: string
  const operator = privateKeyToAccount(generatePrivateKey())
  let key: Awaited<ReturnType<typeof generateKeyPair>>
  let peerId: string

  const heartbeat = async () => {
    const signed = await signHeartbeat({
      account: operator,
      privateKey: key,
      body: {
        peerId,
        kind: 'full',
        multiaddrs: [],
        httpUrl: url,
        region: 'local',
        capacityBytes: 2 ** 30,
        usedBytes: 0,
        egressCapBps: 0,
        activeTransfers: 0,
        trustedMetas: net.file.metaAddresses ?? [],
      },
    })
    return postForError(net.file.metaUrls[0] as string, '/v1/nodes/heartbeat', signed)
  }

  beforeAll(async () => {
    net = await startTestNetwork({ resources: 1, chain: true })
    key = await generateKeyPair('Ed25519')
    peerId = peerIdFromPrivateKey(key).toString()
    // the stranger's own server proves its URL honestly: only the stake is missing
    server = await startIdentityServer(key)
    url = server.url
  }, 120_000)
  afterAll(async () => {
    server?.close()
    await net?.stop()
  })

  test('error: an unstaked full node is refused with NodeNotStakedError and never listed; once its operator stakes it on chain, its next heartbeat registers it', async () => {
    expect(await heartbeat()).toEqual({ status: 403, name: 'NodeNotStakedError' })
    const listed = async () => ((await (await fetch(new URL('/v1/nodes', net.file.metaUrls[0]))).json()) as { nodes: Array<{ peerId: string }> }).nodes
    expect((await listed()).map((n) => n.peerId)).not.toContain(peerId)
    // the devnet's own nodes were staked by `npm start`'s setup, and are listed
    expect((await listed()).map((n) => n.peerId)).toContain(net.file.nodes[0]?.peerId)

    const chain = net.file.chain
    if (chain === undefined) throw new Error('no chain')
    const dev = privateKeyToAccount(net.file.devKey as Hex)
    await devnetChainClients(chain).fund(dev, operator, DEPLOY_DEFAULTS.minNodeStake, 0n)
    const definition = defineChain({
      id: chain.chainId,
      name: 'devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [chain.rpcUrl] } },
    })
    const pub = createPublicClient({ chain: definition, transport: http(chain.rpcUrl) })
    const wallet = createWalletClient({ account: operator, chain: definition, transport: http(chain.rpcUrl) })
    await registerNode(
      {
        pub,
        wallet,
        contracts: { token: chain.contracts.token as Hex, registry: chain.contracts.registry as Hex },
        mined: async (hash) => ({ gasUsed: (await pub.waitForTransactionReceipt({ hash })).gasUsed }),
      },
      key,
      DEPLOY_DEFAULTS.minNodeStake,
    )
    expect(await heartbeat()).toEqual({ status: 200, name: undefined })
    expect((await listed()).map((n) => n.peerId)).toContain(peerId)
  }, 120_000)
})
