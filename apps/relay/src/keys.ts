import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'

/** Loads the operator's secp256k1 key from the data dir, creating it on first start. */
export async function loadOperatorKey(dataDir: string, file = 'operator.key'): Promise<PrivateKeyAccount> {
  const path = join(dataDir, file)
  let hex = await readFile(path, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  )
  if (hex === undefined) {
    hex = generatePrivateKey()
    await mkdir(dataDir, { recursive: true })
    await writeFile(path, `${hex}\n`, { mode: 0o600 })
  }
  return privateKeyToAccount(hex as `0x${string}`)
}

/** Loads the node's libp2p Ed25519 key, creating it on first start, so the peer id survives restarts. */
export async function loadPeerKey(dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, 'peer.key')
  const bytes = await readFile(path).catch(() => undefined)
  if (bytes !== undefined) return privateKeyFromProtobuf(new Uint8Array(bytes))
  const key = await generateKeyPair('Ed25519')
  await mkdir(dataDir, { recursive: true })
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}
