import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { committed, settle } from './idb.ts'

/** A donor tab's identity: an operator key (receipts, heartbeats) and a libp2p peer key, kept in IndexedDB. */
export interface DonorKeys {
  operator: LocalAccount
  peerKey: PrivateKey
}

/** Loads the tab's donor keys, creating them on first use (IndexedDB, never localStorage). */
export async function loadDonorKeys(db: IDBDatabase): Promise<DonorKeys> {
  const store = db.transaction('keys').objectStore('keys')
  let operatorKey = (await settle(store.get('operator'))) as `0x${string}` | undefined
  const peerBytes = (await settle(store.get('peer'))) as Uint8Array | undefined
  let peerKey = peerBytes ? privateKeyFromProtobuf(peerBytes) : undefined
  if (operatorKey === undefined || peerKey === undefined) {
    operatorKey ??= generatePrivateKey()
    peerKey ??= await generateKeyPair('Ed25519')
    const tx = db.transaction('keys', 'readwrite')
    tx.objectStore('keys').put(operatorKey, 'operator')
    tx.objectStore('keys').put(privateKeyToProtobuf(peerKey), 'peer')
    await committed(tx)
  }
  return { operator: privateKeyToAccount(operatorKey), peerKey }
}
