import type { ReactNode } from 'react'

export interface StatProps {
  label: ReactNode
  /** The shown text, e.g. `formatBytes(n)`. */
  children: ReactNode
  /** The raw number behind the text, kept in `data-value` for tools and tests. */
  value?: number | string
  hint?: ReactNode
  'data-testid'?: string
}

/** One labelled figure of a live dashboard. */
export function Stat({ label, children, value, hint, 'data-testid': testId }: StatProps) {
  return (
    <div className="rounded-lg border border-zinc-200 px-4 py-3 dark:border-zinc-800">
      <dt className="text-xs uppercase tracking-wide text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="mt-1 text-lg font-semibold tabular-nums" data-testid={testId} data-value={value}>
        {children}
      </dd>
      {hint !== undefined && <p className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400">{hint}</p>}
    </div>
  )
}
