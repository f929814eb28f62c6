import type { ReactNode } from 'react'
import { SiteNav } from './site-nav.tsx'

/** A portal page's frame: title, subtitle, the page links, then the page. */
export function PageShell({ title, subtitle, children }: { title: string; subtitle: string; children: ReactNode }) {
  return (
    <main className="mx-auto flex max-w-6xl flex-col gap-6 px-4 py-8 sm:px-6">
      <header className="flex flex-wrap items-end justify-between gap-2">
        <div>
          <h1 className="text-2xl font-bold tracking-tight">{title}</h1>
          <p className="text-sm text-zinc-500 dark:text-zinc-400">{subtitle}</p>
        </div>
        <SiteNav />
      </header>
      {children}
    </main>
  )
}
