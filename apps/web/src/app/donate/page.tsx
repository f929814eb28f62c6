import { Notice } from '@konbini/ui'
import type { Metadata } from 'next'
import { connection } from 'next/server'
import { DonateApp } from '../../components/donate/donate-app.tsx'
import { PageShell } from '../../components/page-shell.tsx'
import { readEnv } from '../../env.ts'
import { toShownError } from '../../lib/overview.ts'
import { loadPageConfig, type PageConfig } from '../../lib/page-config.ts'

export const metadata: Metadata = { title: 'Konbini — donate' }

/** Opt in to serving public files from this tab, within caps. */
export default async function DonatePage() {
  await connection()
  let config: PageConfig
  try {
    config = await loadPageConfig(await readEnv())
  } catch (err) {
    config = { state: 'missing', reason: toShownError(err).message }
  }
  return (
    <PageShell title="Donate" subtitle="Let this tab serve public files to nearby browsers">
      {config.state === 'ok' ? (
        <DonateApp init={config.init} />
      ) : (
        <Notice tone="error" title="This page cannot reach the network">
          {config.reason}
        </Notice>
      )}
    </PageShell>
  )
}
