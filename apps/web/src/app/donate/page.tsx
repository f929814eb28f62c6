import type { Metadata } from 'next'
import { ClientPage } from '../../components/client-page.tsx'
import { DonateApp } from '../../components/donate/donate-app.tsx'
import { pageWalletConfig } from '../../lib/wallet/page-wallet-config.ts'

export const metadata: Metadata = { title: 'Konbini — donate' }

/** Opt in to serving public files from this tab, within caps, and earn for a wallet. */
export default function DonatePage() {
  return (
    <ClientPage
      title="Donate"
      subtitle="Let this tab serve public files to nearby browsers"
      app={async (init) => <DonateApp init={init} wallet={await pageWalletConfig()} />}
    />
  )
}
