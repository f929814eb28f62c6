import type { Metadata } from 'next'
import { ClientPage } from '../../components/client-page.tsx'
import { DonateApp } from '../../components/donate/donate-app.tsx'

export const metadata: Metadata = { title: 'Konbini — donate' }

/** Opt in to serving public files from this tab, within caps. */
export default function DonatePage() {
  return <ClientPage title="Donate" subtitle="Let this tab serve public files to nearby browsers" app={(init) => <DonateApp init={init} />} />
}
