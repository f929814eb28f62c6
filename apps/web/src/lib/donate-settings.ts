import { z } from 'zod'
import type { DonorCaps } from './browser-konbini.ts'

/** localStorage key of the donate page's choice and caps (nothing sensitive). */
export const DONATE_SETTINGS_KEY = 'konbini:donate:v1'

/** The value of `uploadKBps` and `dailyMiB` that means "no cap" (the donor treats 0 as unlimited). */
export const NO_CAP = 0

const MiB_PER_GiB = 1024

// Storage must be positive (a donor with no room caches nothing); the two upload caps may be NO_CAP.
const MAX = { storageMiB: 1_048_576, uploadKBps: 10_000_000, dailyMiB: 10_485_760 } as const
const caps = z.object({
  storageMiB: z.number().int().min(1).max(MAX.storageMiB),
  /** KiB/s (the donor multiplies by 1024), or NO_CAP. */
  uploadKBps: z.number().int().min(NO_CAP).max(MAX.uploadKBps),
  dailyMiB: z.number().int().min(NO_CAP).max(MAX.dailyMiB),
  pauseWhenHidden: z.boolean(),
  respectDataSaver: z.boolean(),
})

const settings = z.object({ enabled: z.boolean(), caps })
export type DonateSettings = z.infer<typeof settings>

/**
 * Off; once on, no rate cap (a donor carries what its uplink can), 10 GiB a day and 512 MiB of a
 * laptop disk. Settings stored with the earlier 1024 KiB/s default still load as they were.
 */
export const DEFAULT_DONATE_SETTINGS: DonateSettings = {
  enabled: false,
  caps: { storageMiB: 512, uploadKBps: NO_CAP, dailyMiB: 10 * MiB_PER_GiB, pauseWhenHidden: false, respectDataSaver: true },
}

const fieldNames: Record<string, string> = { storageMiB: 'Storage', uploadKBps: 'Upload rate', dailyMiB: 'Daily upload' }
const fieldRules: Record<string, string> = {
  storageMiB: `a whole number of MiB from 1 to ${MAX.storageMiB}`,
  uploadKBps: `a whole number of KiB/s up to ${MAX.uploadKBps}, or 0 for no cap`,
  dailyMiB: `a whole number of MiB up to ${MAX.dailyMiB}, or 0 for no cap`,
}

/**
 * Checks caps typed by the user; returns them or one sentence saying what is wrong.
 * `uploadKBps` and `dailyMiB` accept {@link NO_CAP} (0); storage must be positive.
 * @example validateCaps({ ...caps, storageMiB: 0 }) // { error: 'Storage must be …' }
 */
export function validateCaps(value: DonorCaps): { caps: DonorCaps } | { error: string } {
  const parsed = caps.safeParse(value)
  if (parsed.success) return { caps: parsed.data }
  const field = String(parsed.error.issues[0]?.path[0] ?? 'A cap')
  return { error: `${fieldNames[field] ?? field} must be ${fieldRules[field] ?? 'within range'}.` }
}

/**
 * The remembered choice and caps, or the defaults when there are none or they are unreadable.
 * @example const { enabled, caps } = loadDonateSettings()
 */
export function loadDonateSettings(storage: Pick<Storage, 'getItem'> = localStorage): DonateSettings {
  try {
    const raw = storage.getItem(DONATE_SETTINGS_KEY)
    const parsed = raw ? settings.safeParse(JSON.parse(raw)) : undefined
    return parsed?.success ? parsed.data : DEFAULT_DONATE_SETTINGS
  } catch {
    return DEFAULT_DONATE_SETTINGS
  }
}

/**
 * Remembers the choice and caps for the next visit (best effort: a full or blocked storage is ignored).
 * @example saveDonateSettings({ enabled: true, caps })
 */
export function saveDonateSettings(value: DonateSettings, storage: Pick<Storage, 'setItem'> = localStorage): void {
  try {
    storage.setItem(DONATE_SETTINGS_KEY, JSON.stringify(value))
  } catch {}
}
