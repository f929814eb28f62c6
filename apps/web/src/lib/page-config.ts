import type { WebEnv } from '../env.ts'
import type { BrowserKonbiniInit } from './browser-konbini.ts'
import { readDevnetFile } from './devnet.ts'

/** What a browser page gets from the server: the client's init, or why there is none. */
export type PageConfig = { state: 'ok'; init: BrowserKonbiniInit } | { state: 'missing'; reason: string }

/**
 * Builds the browser client's init from the environment and `.konbini/devnet.json`: meta URLs,
 * each devnet node's WebSocket multiaddrs as relays, the devnet's meta addresses as trusted metas
 * and the chain id. No key: the tab signs with its own (kept in IndexedDB), which a wallet
 * authorizes; the devnet's dev key stays on the server.
 * Throws what `readDevnetFile` throws (a named error with a sentence).
 * @example const config = await loadPageConfig(await readEnv())
 */
export async function loadPageConfig(env: WebEnv): Promise<PageConfig> {
  const devnet = await readDevnetFile(env.devnetFile)
  const relays = (devnet?.nodes ?? []).flatMap((n) => n.multiaddrs.filter((a) => a.includes('/ws/') || a.endsWith('/ws')))
  const trustedMetas = devnet?.metaAddresses ?? []
  return {
    state: 'ok',
    init: { metaUrls: env.metaUrls, relays, trustedMetas, chainId: devnet?.chainId ?? env.chainId },
  }
}
