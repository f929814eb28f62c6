import type { ReactNode } from 'react'
import { cx } from './cx.ts'

export interface ProgressBarProps {
  /** Percent done, 0–100 (clamped and rounded down). */
  value: number
  label: string
  /** Text under the bar, e.g. the phase and byte counts. */
  detail?: ReactNode
  tone?: 'blue' | 'green' | 'red'
  'data-testid'?: string
}

const bars = { blue: 'bg-sky-600', green: 'bg-emerald-600', red: 'bg-red-600' } as const

/** A labelled progress bar; exposes its value as `aria-valuenow` (and `data-value`) for tools and tests. */
export function ProgressBar({ value, label, detail, tone = 'blue', 'data-testid': testId }: ProgressBarProps) {
  const percent = Math.floor(Math.min(100, Math.max(0, Number.isFinite(value) ? value : 0)))
  return (
    <div className="flex flex-col gap-1">
      <div className="flex items-baseline justify-between text-sm">
        <span className="font-medium">{label}</span>
        <span className="tabular-nums">{percent} %</span>
      </div>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        data-value={percent}
        data-testid={testId}
        className="h-2 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        <div className={cx('h-full transition-[width] duration-200', bars[tone])} style={{ width: `${percent}%` }} />
      </div>
      {detail !== undefined && <div className="text-xs text-zinc-500 dark:text-zinc-400">{detail}</div>}
    </div>
  )
}
