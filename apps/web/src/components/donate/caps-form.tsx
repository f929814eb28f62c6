'use client'

import { Button } from '@konbini/ui'
import type { FormEvent } from 'react'
import type { DonorCaps } from '../../lib/browser-konbini.ts'

/** The caps as typed: numbers stay strings until Apply, so a half-typed value is not rejected. */
export interface CapsDraft {
  storageMiB: string
  uploadKBps: string
  dailyMiB: string
  pauseWhenHidden: boolean
  respectDataSaver: boolean
}

/** Caps → the form's draft. */
export function toDraft(caps: DonorCaps): CapsDraft {
  return { ...caps, storageMiB: String(caps.storageMiB), uploadKBps: String(caps.uploadKBps), dailyMiB: String(caps.dailyMiB) }
}

/** The form's draft → caps (unchecked: `validateCaps` says what is wrong). */
export function fromDraft(d: CapsDraft): DonorCaps {
  return { ...d, storageMiB: Number(d.storageMiB), uploadKBps: Number(d.uploadKBps), dailyMiB: Number(d.dailyMiB) }
}

const numberFields = [
  { key: 'storageMiB', label: 'Storage for cached blocks', unit: 'MiB', testId: 'donate-storage' },
  { key: 'uploadKBps', label: 'Upload rate', unit: 'KB/s', testId: 'donate-upload-rate' },
  { key: 'dailyMiB', label: 'Upload per rolling 24 h', unit: 'MiB', testId: 'donate-daily' },
] as const

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
          <label key={f.key} className="flex flex-col gap-1 text-sm">
            <span className="font-medium">{f.label}</span>
            <span className="flex items-center gap-2">
              <input
                data-testid={f.testId}
                type="number"
                min={1}
                step={1}
                inputMode="numeric"
                value={draft[f.key]}
                onChange={(e) => onChange({ ...draft, [f.key]: e.currentTarget.value })}
                className="w-full rounded-md border border-zinc-300 bg-white px-2 py-1 tabular-nums dark:border-zinc-700 dark:bg-zinc-900"
              />
              <span className="text-zinc-500">{f.unit}</span>
            </span>
          </label>
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
