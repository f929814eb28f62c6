import type { Metadata } from 'next'
import { ClientPage } from '../../components/client-page.tsx'
import { DonateApp } from '../../components/donate/donate-app.tsx'
import { readEnv } from '../../env.ts'
import { toShownError } from '../../lib/overview.ts'
import { loadWalletConfig, type WalletConfig } from '../../lib/wallet/wallet-config.ts'

export const metadata: Metadata = { title: 'Konbini — donate' }

/** Opt in to serving public files from this tab, within caps, and earn for a wallet. */
export default function DonatePage() {
  return (
    <ClientPage
      title="Donate"
      subtitle="Let this tab serve public files to nearby browsers"
      app={async (init) => <DonateApp init={init} wallet={await walletConfig()} />}
    />
  )
}

/** The chain for the earn card, or why there is none (never an error page: donating works without a chain). */
async function walletConfig(): Promise<WalletConfig> {
  try {
    return await loadWalletConfig(await readEnv())
  } catch (err) {
    return { metaUrls: [], state: 'missing', reason: toShownError(err).message }
  }
}
