import { z } from 'zod'
import type { WebEnv } from '../env.ts'
import type { BrowserKonbiniInit } from './browser-konbini.ts'
import { describeIssues, readDevnetFile } from './devnet.ts'
import { DevnetFileError } from './errors.ts'

const devnetExtras = z.looseObject({
  metaAddresses: z.array(z.string()).optional(),
  /** Written by older devnets. */
  metaAddress: z.string().optional(),
  chainId: z.number().int().positive().optional(),
  nodes: z.array(z.looseObject({ multiaddrs: z.array(z.string()).default([]) })).default([]),
})

/** What a browser page gets from the server: the client's init, or why there is none. */
export type PageConfig = { state: 'ok'; init: BrowserKonbiniInit } | { state: 'missing'; reason: string }

/**
 * Builds the browser client's init from the environment and `.konbini/devnet.json`: meta URLs,
 * each devnet node's WebSocket multiaddrs as relays, the devnet's meta addresses as trusted metas,
 * the chain id and the dev user's key.
 *
 * The key is handed to the tab only because this is a devnet: every visitor signs as the one dev
 * user. A real deployment signs with the visitor's own wallet and never ships a key.
 * Throws what `readDevnetFile` throws (a named error with a sentence).
 * @example const config = await loadPageConfig(await readEnv())
 */
export async function loadPageConfig(env: WebEnv): Promise<PageConfig> {
  if (!env.devKey) {
    return { state: 'missing', reason: `No dev key: set KONBINI_DEV_KEY, or start the devnet with \`npm start\` so ${env.devnetFile} exists.` }
  }
  const raw = await readDevnetFile(env.devnetFile)
  const parsed = raw && devnetExtras.safeParse(raw)
  if (parsed && !parsed.success) throw new DevnetFileError({ path: env.devnetFile, reason: describeIssues(parsed.error) })
  const devnet = parsed?.data
  const relays = (devnet?.nodes ?? []).flatMap((n) => n.multiaddrs.filter((a) => a.includes('/ws/') || a.endsWith('/ws')))
  const trustedMetas = devnet?.metaAddresses?.filter(Boolean) ?? (devnet?.metaAddress ? [devnet.metaAddress] : [])
  return {
    state: 'ok',
    init: { metaUrls: env.metaUrls, relays, trustedMetas, chainId: devnet?.chainId ?? env.chainId, accountKey: env.devKey },
  }
}
