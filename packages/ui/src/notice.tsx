import type { ReactNode } from 'react'
import { cx } from './cx.ts'

export interface NoticeProps {
  tone?: 'error' | 'info'
  title: ReactNode
  children?: ReactNode
}

/** A boxed message: an error the user can act on, or an empty state. */
export function Notice({ tone = 'info', title, children }: NoticeProps) {
  return (
    <div
      role={tone === 'error' ? 'alert' : 'status'}
      className={cx(
        'rounded-lg border px-4 py-3 text-sm',
        tone === 'error'
          ? 'border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950/50 dark:text-red-200'
          : 'border-zinc-200 bg-zinc-50 text-zinc-700 dark:border-zinc-700 dark:bg-zinc-800/50 dark:text-zinc-300',
      )}
    >
      <p className="font-medium">{title}</p>
      {children !== undefined && <div className="mt-1">{children}</div>}
    </div>
  )
}
