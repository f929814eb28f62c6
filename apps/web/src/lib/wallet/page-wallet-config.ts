import { readEnv } from '../../env.ts'
import { toShownError } from '../overview.ts'
import { loadWalletConfig, type WalletConfig } from './wallet-config.ts'

/**
 * The chain for a page's wallet cards, or why there is none — never an error page: uploading,
 * downloading and donating work without a chain (unpaid).
 * @example const wallet = await pageWalletConfig()
 */
export async function pageWalletConfig(): Promise<WalletConfig> {
  try {
    return await loadWalletConfig(await readEnv())
  } catch (err) {
    return { metaUrls: [], state: 'missing', reason: toShownError(err).message }
  }
}
