import type { DonorCaps } from '../../lib/browser-konbini.ts'
import { NO_CAP } from '../../lib/donate-settings.ts'

/**
 * The caps as typed: numbers stay strings until Apply, so a half-typed value is not rejected.
 * For the two upload caps an empty string means "no cap"; a number input's unreadable text is
 * kept as {@link UNREADABLE} so Apply refuses it instead of reading it as empty.
 */
export interface CapsDraft {
  storageMiB: string
  uploadKBps: string
  dailyMiB: string
  pauseWhenHidden: boolean
  respectDataSaver: boolean
}

/** The caps a user may lift ("no cap"); storage always has one. */
export type UncappableField = 'uploadKBps' | 'dailyMiB'

/** What a number input's draft holds when the browser could not read the typed text (`validity.badInput`). */
export const UNREADABLE = 'unreadable'

/** The value a field takes when "No cap" is unticked: a cap to start from. */
export const SUGGESTED_CAP: Record<UncappableField, string> = { uploadKBps: '1024', dailyMiB: '10240' }

/** Whether a drafted upload cap means "no cap" (empty, or 0). */
export function isNoCap(value: string): boolean {
  return value.trim() === '' || Number(value) === NO_CAP
}

/** Caps → the form's draft ("no cap" shows as an empty field). */
export function toDraft(caps: DonorCaps): CapsDraft {
  const upload = (v: number) => (v === NO_CAP ? '' : String(v))
  return { ...caps, storageMiB: String(caps.storageMiB), uploadKBps: upload(caps.uploadKBps), dailyMiB: upload(caps.dailyMiB) }
}

/** The form's draft → caps (unchecked: `validateCaps` says what is wrong; an empty storage is NaN). */
export function fromDraft(d: CapsDraft): DonorCaps {
  const upload = (v: string) => (v.trim() === '' ? NO_CAP : Number(v))
  return { ...d, storageMiB: d.storageMiB.trim() === '' ? Number.NaN : Number(d.storageMiB), uploadKBps: upload(d.uploadKBps), dailyMiB: upload(d.dailyMiB) }
}
