import { createRequire } from 'node:module'
import type * as Secp256k1 from 'secp256k1'

const require = createRequire(import.meta.url)
/** The native binding (a prebuild ships in the package), else its JavaScript fallback (about 30× slower). */
function loadSecp256k1(): { lib: typeof Secp256k1; native: boolean } {
  try {
    return { lib: require('secp256k1/bindings') as typeof Secp256k1, native: true }
  } catch {
    return { lib: require('secp256k1/elliptic') as typeof Secp256k1, native: false }
  }
}
const loaded = loadSecp256k1()
/** secp256k1 (libsecp256k1 through its Node binding when it loads). */
export const secp256k1 = loaded.lib
/** Whether secp256k1 runs as native code on this machine. */
export const nativeSecp256k1 = loaded.native
