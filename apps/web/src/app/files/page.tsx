import type { Metadata } from 'next'
import { ClientPage } from '../../components/client-page.tsx'
import { FilesApp } from '../../components/files/files-app.tsx'
import { pageWalletConfig } from '../../lib/wallet/page-wallet-config.ts'

export const metadata: Metadata = { title: 'Konbini — files' }

/** Upload from this tab, and save or preview files streamed through the network. */
export default function FilesPage() {
  return (
    <ClientPage
      title="Files"
      subtitle="Upload from this tab; save and preview streamed from nodes and peers"
      app={async (init) => <FilesApp init={init} wallet={await pageWalletConfig()} />}
    />
  )
}
