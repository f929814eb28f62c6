import { type SignedSessionGrant, sessionGrantTypedData } from '@konbini/protocol'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { rememberedGrant, rememberGrant } from './grant-store.ts'

/** localStorage's interface over a Map (Vitest runs in Node). */
function memoryStorage(): Storage {
  const map = new Map<string, string>()
  return {
    get length() {
      return map.size
    },
    clear: () => map.clear(),
    getItem: (k) => map.get(k) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (k) => void map.delete(k),
    setItem: (k, v) => void map.set(k, String(v)),
  }
}

const wallet = privateKeyToAccount(generatePrivateKey())
const sessionKey = privateKeyToAccount(generatePrivateKey()).address
const NOW = 1_800_000_000

async function signed(expiresAt: number, by = wallet): Promise<SignedSessionGrant> {
  const grant = { wallet: by.address, sessionKey, expiresAt }
  return { grant, signature: await by.signTypedData(sessionGrantTypedData(grant, 31337)) }
}

describe('grant store', () => {
  test('default: a remembered grant is found for its key and wallet (any letter case)', async () => {
    const storage = memoryStorage()
    const grant = await signed(NOW + 3600)
    rememberGrant(storage, grant)
    expect(rememberedGrant(storage, sessionKey.toLowerCase(), wallet.address.toUpperCase().replace('0X', '0x'), NOW)).toEqual(grant)
  })

  test('behavior: another wallet, an expired grant, or a broken entry asks again', async () => {
    const storage = memoryStorage()
    rememberGrant(storage, await signed(NOW + 3600))
    const other = privateKeyToAccount(generatePrivateKey())
    expect(rememberedGrant(storage, sessionKey, other.address, NOW)).toBeUndefined()
    expect(rememberedGrant(storage, sessionKey, wallet.address, NOW + 3600)).toBeUndefined()
    storage.setItem(`konbini:grant:${sessionKey.toLowerCase()}`, '{nope')
    expect(rememberedGrant(storage, sessionKey, wallet.address, NOW)).toBeUndefined()
  })

  test("behavior: a new wallet's grant replaces the last one for the key", async () => {
    const storage = memoryStorage()
    rememberGrant(storage, await signed(NOW + 3600))
    const other = privateKeyToAccount(generatePrivateKey())
    const replacing = await signed(NOW + 7200, other)
    rememberGrant(storage, replacing)
    expect(rememberedGrant(storage, sessionKey, other.address, NOW)).toEqual(replacing)
    expect(rememberedGrant(storage, sessionKey, wallet.address, NOW)).toBeUndefined()
  })
})
