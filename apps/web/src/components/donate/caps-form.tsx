'use client'

import { Button } from '@konbini/ui'
import { type FormEvent, useId } from 'react'
import { type CapsDraft, isNoCap, SUGGESTED_CAP, UNREADABLE, type UncappableField } from './caps-draft.ts'

const numberFields: ReadonlyArray<{ key: 'storageMiB' | UncappableField; label: string; unit: string; testId: string; noCapValue?: string }> = [
  { key: 'storageMiB', label: 'Storage for cached blocks', unit: 'MiB', testId: 'donate-storage' },
  { key: 'uploadKBps', label: 'Upload rate', unit: 'KiB/s', testId: 'donate-upload-rate', noCapValue: SUGGESTED_CAP.uploadKBps },
  { key: 'dailyMiB', label: 'Upload per rolling 24 h', unit: 'MiB', testId: 'donate-daily', noCapValue: SUGGESTED_CAP.dailyMiB },
]

/**
 * One cap: a whole number with its unit; an uncappable one (`noCapValue` set: the cap restored when
 * "No cap" is unticked) also has a "No cap" box, and reads "no cap" while it is empty or 0.
 */
function NumberField({
  label,
  unit,
  testId,
  value,
  onChange,
  noCapValue,
}: {
  label: string
  unit: string
  testId: string
  value: string
  onChange: (value: string) => void
  noCapValue?: string
}) {
  const id = useId()
  const uncapped = noCapValue !== undefined && isNoCap(value)
  return (
    <div className="flex flex-col gap-1 text-sm">
      <label htmlFor={id} className="font-medium">
        {label}
      </label>
      <span className="flex items-center gap-2">
        <input
          id={id}
          data-testid={testId}
          type="number"
          min={noCapValue === undefined ? 1 : 0}
          step={1}
          inputMode="numeric"
          value={value}
          placeholder={noCapValue === undefined ? undefined : 'no cap'}
          onChange={(e) => onChange(e.currentTarget.validity.badInput ? UNREADABLE : e.currentTarget.value)}
          className="w-full rounded-md border border-zinc-300 bg-white px-2 py-1 tabular-nums dark:border-zinc-700 dark:bg-zinc-900"
        />
        <span className="text-zinc-500">{unit}</span>
      </span>
      {noCapValue !== undefined && (
        <label className="flex items-center gap-2 text-xs">
          <input data-testid={`${testId}-no-cap`} type="checkbox" checked={uncapped} onChange={(e) => onChange(e.currentTarget.checked ? '' : noCapValue)} />
          No cap{uncapped && <span className="text-zinc-500"> — as much as this connection carries</span>}
        </label>
      )}
    </div>
  )
}

/** Storage, rate and daily caps plus the two pause switches; Apply saves (and restarts a running donor). */
export function CapsForm({ draft, onChange, onApply, dirty }: { draft: CapsDraft; onChange: (d: CapsDraft) => void; onApply: () => void; dirty: boolean }) {
  const submit = (e: FormEvent) => {
    e.preventDefault()
    onApply()
  }
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4" data-testid="donate-caps">
      <div className="grid gap-4 sm:grid-cols-3">
        {numberFields.map((f) => (
          <NumberField
            key={f.key}
            label={f.label}
            unit={f.unit}
            testId={f.testId}
            value={draft[f.key]}
            onChange={(value) => onChange({ ...draft, [f.key]: value })}
            {...(f.noCapValue !== undefined && { noCapValue: f.noCapValue })}
          />
        ))}
      </div>
      <label className="flex items-center gap-2 text-sm">
        <input
          data-testid="donate-pause-hidden"
          type="checkbox"
          checked={draft.pauseWhenHidden}
          onChange={(e) => onChange({ ...draft, pauseWhenHidden: e.currentTarget.checked })}
        />
        Pause when this tab is hidden
      </label>
      <label className="flex items-center gap-2 text-sm">
        <input
          data-testid="donate-data-saver"
          type="checkbox"
          checked={draft.respectDataSaver}
          onChange={(e) => onChange({ ...draft, respectDataSaver: e.currentTarget.checked })}
        />
        Pause when my browser&apos;s data-saver is on
      </label>
      <p className="text-xs text-zinc-500 dark:text-zinc-400">Donating always pauses while the device runs on battery.</p>
      <div>
        <Button type="submit" data-testid="donate-apply" disabled={!dirty}>
          Apply caps
        </Button>
      </div>
    </form>
  )
}
