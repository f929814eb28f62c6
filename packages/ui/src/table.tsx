import type { ReactNode } from 'react'
import { cx } from './cx.ts'

/** One column of a {@link Table}: a header and how to render a row's cell. */
export interface Column<T> {
  header: ReactNode
  cell: (row: T) => ReactNode
  align?: 'left' | 'right'
  className?: string
}

export interface TableProps<T> {
  columns: readonly Column<T>[]
  rows: readonly T[]
  rowKey: (row: T) => string
  /** Shown instead of the table when there are no rows. */
  empty?: ReactNode
  caption?: string
  /** Extra attributes of a row's `<tr>`, e.g. `{ 'data-testid': 'file-row' }`. */
  rowAttributes?: (row: T) => Record<`data-${string}`, string>
}

/** A plain data table that scrolls sideways on narrow screens. */
export function Table<T>({ columns, rows, rowKey, empty, caption, rowAttributes }: TableProps<T>) {
  if (rows.length === 0 && empty !== undefined) return <>{empty}</>
  return (
    <div className="-mx-5 overflow-x-auto">
      <table className="min-w-full text-left text-sm">
        {caption !== undefined && <caption className="sr-only">{caption}</caption>}
        <thead className="text-xs uppercase tracking-wide text-zinc-500 dark:text-zinc-400">
          <tr>
            {columns.map((col) => (
              <th key={String(col.header)} scope="col" className={cx('whitespace-nowrap px-5 py-2 font-medium', col.align === 'right' && 'text-right')}>
                {col.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {rows.map((row) => (
            <tr key={rowKey(row)} {...rowAttributes?.(row)} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/40">
              {columns.map((col) => (
                <td key={String(col.header)} className={cx('px-5 py-2 align-middle', col.align === 'right' && 'text-right tabular-nums', col.className)}>
                  {col.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
