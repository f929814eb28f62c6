/** `bytes` random bytes as lower-case hex (WebCrypto: works in Node and browsers). */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('')
}

/** A value as base64url JSON, the encoding of Konbini's ticket and route headers. */
export function base64urlJson(value: unknown): string {
  let binary = ''
  for (const b of new TextEncoder().encode(JSON.stringify(value))) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
