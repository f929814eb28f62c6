import { Notice } from '@konbini/ui'
import type { ReactNode } from 'react'
import { connection } from 'next/server'
import { AutoRefresh } from '../components/auto-refresh.tsx'
import { FilesCard } from '../components/files-card.tsx'
import { NodesCard } from '../components/nodes-card.tsx'
import { SiteNav } from '../components/site-nav.tsx'
import { SectionStatus } from '../components/section-status.tsx'
import { readEnv } from '../env.ts'
import { loadOverview, toShownError } from '../lib/overview.ts'

/** The network at a glance: the node registry and the dev user's files, fresh on every request. */
export default async function HomePage() {
  await connection()
  const now = Math.floor(Date.now() / 1000)
  let body: ReactNode
  let metaUrls: string[] = []
  try {
    const env = await readEnv()
    const overview = await loadOverview(env)
    metaUrls = overview.metaUrls
    const nodes = overview.nodes.state === 'ok' ? overview.nodes.data : []
    // When no meta node answers, one box says so instead of one per section.
    const unreachable = overview.nodes.state === 'error' && overview.nodes.error.name === 'MetaUnavailableError'
    body = unreachable ? (
      <SectionStatus section={overview.nodes} what="the network" />
    ) : (
      <>
        <NodesCard nodes={overview.nodes} now={now} />
        <FilesCard files={overview.files} nodes={nodes} owner={overview.owner} />
      </>
    )
  } catch (err) {
    const error = toShownError(err)
    body = (
      <Notice tone="error" title="The portal is not configured correctly">
        {error.message}
      </Notice>
    )
  }
  return (
    <main className="mx-auto flex max-w-6xl flex-col gap-6 px-4 py-8 sm:px-6">
      <header className="flex flex-wrap items-end justify-between gap-2">
        <div>
          <h1 className="text-2xl font-bold tracking-tight">Konbini</h1>
          <p className="text-sm text-zinc-500 dark:text-zinc-400">The network at a glance</p>
        </div>
        <SiteNav />
        <p className="text-xs text-zinc-500 dark:text-zinc-400">
          {metaUrls.length > 0 && (
            <>
              Meta: <span className="font-mono">{metaUrls.join(', ')}</span> ·{' '}
            </>
          )}
          refreshed every 5 s
        </p>
      </header>
      {body}
      <AutoRefresh seconds={5} />
    </main>
  )
}
