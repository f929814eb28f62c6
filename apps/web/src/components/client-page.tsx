import { Notice } from '@konbini/ui'
import { connection } from 'next/server'
import type { ReactNode } from 'react'
import { readEnv } from '../env.ts'
import type { BrowserKonbiniInit } from '../lib/browser-konbini.ts'
import { toShownError } from '../lib/overview.ts'
import { loadPageConfig, type PageConfig } from '../lib/page-config.ts'
import { PageShell } from './page-shell.tsx'

/**
 * A page whose body runs the browser client: reads the network's config on the server (per
 * request), then renders `app(init)`, or one sentence saying why the page cannot reach the network.
 */
export async function ClientPage({ title, subtitle, app }: { title: string; subtitle: string; app: (init: BrowserKonbiniInit) => ReactNode }) {
  await connection()
  let config: PageConfig
  try {
    config = await loadPageConfig(await readEnv())
  } catch (err) {
    config = { state: 'missing', reason: toShownError(err).message }
  }
  return (
    <PageShell title={title} subtitle={subtitle}>
      {config.state === 'ok' ? (
        app(config.init)
      ) : (
        <Notice tone="error" title="This page cannot reach the network">
          {config.reason}
        </Notice>
      )}
    </PageShell>
  )
}
