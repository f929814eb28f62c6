import { createHash } from 'node:crypto'
import { EIP712_DOMAIN_NAME, EIP712_DOMAIN_VERSION, type SignedReceipt } from '@konbini/protocol'
import { nativeSecp256k1, secp256k1 } from './secp256k1.ts'

export { nativeSecp256k1 }

/**
 * Verifies traffic receipts in bulk for the meta node's epochs: the EIP-712 digest with Node's
 * native keccak-256 (OpenSSL) and the signer by native secp256k1 recovery — per-receipt
 * recovery with viem (JavaScript) manages ~400 a second, this ~10,000+ per core. The digest is
 * the same as viem's `hashTypedData(receiptTypedData(r, chainId))` (tested).
 */

const keccak = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('keccak-256')
  for (const p of parts) h.update(p)
  return h.digest()
}
const utf8 = (s: string) => Buffer.from(s, 'utf8')
const RECEIPT_TYPEHASH = keccak(utf8('Receipt(bytes32 ticket,address consumer,string provider,uint64 epoch,uint64 bytes)'))
const DOMAIN_TYPEHASH = keccak(utf8('EIP712Domain(string name,string version,uint256 chainId)'))
/** secp256k1's group order ÷ 2: a signature with a larger `s` is the malleable twin of a valid one. */
const HALF_ORDER = Buffer.from('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 'hex')

function uint256(n: number | bigint): Buffer {
  return Buffer.from(BigInt(n).toString(16).padStart(64, '0'), 'hex')
}

/** Writes `hex` (0x + 2×`bytes` digits) right-aligned into `out` at `at + 32 − bytes`. */
function putHex(out: Buffer, at: number, value: string, bytes: number): void {
  if (value.length !== 2 + 2 * bytes) throw new RangeError(`expected ${bytes} bytes of hex`)
  if (out.write(value.slice(2), at + 32 - bytes, 'hex') !== bytes) throw new RangeError(`expected ${bytes} bytes of hex`)
}

/** keccak256 of each provider id: a batch names few providers. */
const providerHashes = new Map<string, Buffer>()
function providerHash(provider: string): Buffer {
  let hash = providerHashes.get(provider)
  if (hash === undefined) {
    hash = keccak(utf8(provider))
    if (providerHashes.size > 10_000) providerHashes.clear()
    providerHashes.set(provider, hash)
  }
  return hash
}

/** Domain separators by chain id: a process sees one or two. */
const domainSeparators = new Map<number, Buffer>()

/** The EIP-712 domain separator for `{ name: "Konbini", version: "1", chainId }` (computed once per chain id). */
export function receiptDomainSeparator(chainId: number): Buffer {
  let separator = domainSeparators.get(chainId)
  if (separator === undefined) {
    separator = keccak(DOMAIN_TYPEHASH, keccak(utf8(EIP712_DOMAIN_NAME)), keccak(utf8(EIP712_DOMAIN_VERSION)), uint256(chainId))
    domainSeparators.set(chainId, separator)
  }
  return separator
}

/** The EIP-712 digest a consumer signs for `r`. */
export function receiptDigest(r: SignedReceipt['receipt'], domainSeparator: Buffer): Buffer {
  // typehash ‖ ticket ‖ consumer ‖ keccak(provider) ‖ epoch ‖ bytes, each 32 bytes
  const data = Buffer.alloc(6 * 32)
  RECEIPT_TYPEHASH.copy(data, 0)
  putHex(data, 32, r.ticket, 32)
  putHex(data, 64, r.consumer, 20)
  providerHash(r.provider).copy(data, 96)
  data.writeBigUInt64BE(BigInt(r.epoch), 128 + 24)
  data.writeBigUInt64BE(BigInt(r.bytes), 160 + 24)
  const envelope = Buffer.allocUnsafe(66)
  envelope[0] = 0x19
  envelope[1] = 0x01
  domainSeparator.copy(envelope, 2)
  keccak(data).copy(envelope, 34)
  return keccak(envelope)
}

/** The address that signed `digest` (65-byte r‖s‖v signature), or undefined when the signature is malformed or malleable. */
export function recoverSigner(digest: Uint8Array, signature: string): `0x${string}` | undefined {
  if (signature.length !== 132 || !signature.startsWith('0x')) return undefined
  const sig = Buffer.from(signature.slice(2), 'hex')
  if (sig.length !== 65) return undefined
  const v = sig[64] as number
  const recid = v >= 27 ? v - 27 : v
  if (recid !== 0 && recid !== 1) return undefined
  if (Buffer.compare(sig.subarray(32, 64), HALF_ORDER) > 0) return undefined
  try {
    return addressOf(secp256k1.ecdsaRecover(sig.subarray(0, 64), recid, digest, false))
  } catch {
    return undefined
  }
}

/** Addresses of recovered public keys: a consumer signs many receipts, so most are repeats. */
const addresses = new Map<string, `0x${string}`>()
function addressOf(pub: Uint8Array): `0x${string}` {
  const key = Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('latin1')
  let address = addresses.get(key)
  if (address === undefined) {
    address = `0x${keccak(pub.subarray(1)).subarray(12).toString('hex')}`
    if (addresses.size > 100_000) addresses.clear()
    addresses.set(key, address)
  }
  return address
}

/**
 * Each receipt's signer (lower-case address), or undefined when its signature is invalid, in
 * order. The caller checks the signer against the ticket's consumer (or its session key).
 */
export function recoverReceiptSigners(receipts: readonly SignedReceipt[], chainId: number): Array<`0x${string}` | undefined> {
  const domain = receiptDomainSeparator(chainId)
  return receipts.map((s) => recoverSigner(receiptDigest(s.receipt, domain), s.signature))
}

/** One receipt's signer (native recovery), for a resource node checking the receipts it is handed. */
export async function recoverReceiptSignerNative(signed: SignedReceipt, chainId: number): Promise<string | undefined> {
  return recoverSigner(receiptDigest(signed.receipt, receiptDomainSeparator(chainId)), signed.signature)
}
