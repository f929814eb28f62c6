import type { ReactNode } from 'react'
import { cx } from './cx.ts'

export interface ToggleProps {
  checked: boolean
  onChange: (checked: boolean) => void
  label: ReactNode
  disabled?: boolean
  'data-testid'?: string
}

/** An on/off switch (`role="switch"`, `aria-checked`) with its label beside it. */
export function Toggle({ checked, onChange, label, disabled, 'data-testid': testId }: ToggleProps) {
  return (
    <label className={cx('inline-flex select-none items-center gap-3', disabled ? 'cursor-not-allowed opacity-60' : 'cursor-pointer')}>
      <button
        type="button"
        role="switch"
        aria-checked={checked}
        disabled={disabled}
        data-testid={testId}
        onClick={() => onChange(!checked)}
        className={cx(
          'relative inline-flex h-6 w-11 shrink-0 rounded-full border-2 border-transparent transition-colors',
          checked ? 'bg-emerald-600' : 'bg-zinc-300 dark:bg-zinc-700',
        )}
      >
        <span className={cx('inline-block h-5 w-5 rounded-full bg-white shadow transition-transform', checked ? 'translate-x-5' : 'translate-x-0')} />
      </button>
      <span className="text-sm font-medium">{label}</span>
    </label>
  )
}
