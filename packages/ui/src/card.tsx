import type { ReactNode } from 'react'
import { cx } from './cx.ts'

export interface CardProps {
  title?: ReactNode
  /** Short text beside the title, e.g. a count. */
  meta?: ReactNode
  className?: string
  children: ReactNode
}

/** A titled panel; the page's sections are cards. */
export function Card({ title, meta, className, children }: CardProps) {
  return (
    <section className={cx('rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900', className)}>
      {title !== undefined && (
        <header className="flex items-baseline justify-between gap-4 border-b border-zinc-200 px-5 py-3 dark:border-zinc-800">
          <h2 className="text-base font-semibold text-zinc-900 dark:text-zinc-100">{title}</h2>
          {meta !== undefined && <span className="text-sm text-zinc-500 dark:text-zinc-400">{meta}</span>}
        </header>
      )}
      <div className="p-5">{children}</div>
    </section>
  )
}
