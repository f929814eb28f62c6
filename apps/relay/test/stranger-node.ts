import { signHeartbeat } from '@konbini/browser-node'
import type { Heartbeat, SignedHeartbeat } from '@konbini/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'

/** A node as a stranger runs it: its own operator key, its own peer key. */
export interface Stranger {
  account: PrivateKeyAccount
  key: PrivateKey
  peerId: string
}

export async function newStranger(): Promise<Stranger> {
  const key = await generateKeyPair('Ed25519')
  return { account: privateKeyToAccount(generatePrivateKey()), key, peerId: peerIdFromPrivateKey(key).toString() }
}

/** A full node's heartbeat as a stranger signs it: claiming a PiB unless `over` says otherwise. */
export function strangerHeartbeat(s: Stranger, httpUrl: string, trustedMetas: readonly string[], over: Partial<Heartbeat> = {}): Promise<SignedHeartbeat> {
  return signHeartbeat({
    account: s.account,
    privateKey: s.key,
    body: {
      peerId: s.peerId,
      kind: 'full',
      multiaddrs: [],
      httpUrl,
      region: 'local',
      capacityBytes: 2 ** 50,
      usedBytes: 0,
      egressCapBps: 0,
      activeTransfers: 0,
      trustedMetas: [...trustedMetas],
      ...over,
    },
  })
}
