import { Notice } from '@konbini/ui'
import type { Metadata } from 'next'
import { connection } from 'next/server'
import { FilesApp } from '../../components/files/files-app.tsx'
import { PageShell } from '../../components/page-shell.tsx'
import { readEnv } from '../../env.ts'
import { toShownError } from '../../lib/overview.ts'
import { loadPageConfig, type PageConfig } from '../../lib/page-config.ts'

export const metadata: Metadata = { title: 'Konbini — files' }

/** Upload from this tab, and save or preview files streamed through the network. */
export default async function FilesPage() {
  await connection()
  let config: PageConfig
  try {
    config = await loadPageConfig(await readEnv())
  } catch (err) {
    config = { state: 'missing', reason: toShownError(err).message }
  }
  return (
    <PageShell title="Files" subtitle="Upload from this tab; save and preview streamed from nodes and peers">
      {config.state === 'ok' ? (
        <FilesApp init={config.init} />
      ) : (
        <Notice tone="error" title="This page cannot reach the network">
          {config.reason}
        </Notice>
      )}
    </PageShell>
  )
}
