import { z } from 'zod'
import type { DonorCaps } from './browser-konbini.ts'

/** localStorage key of the donate page's choice and caps (nothing sensitive). */
export const DONATE_SETTINGS_KEY = 'konbini:donate:v1'

const caps = z.object({
  storageMiB: z.number().int().min(1).max(1_048_576),
  uploadKBps: z.number().int().min(1).max(10_000_000),
  dailyMiB: z.number().int().min(1).max(10_485_760),
  pauseWhenHidden: z.boolean(),
  respectDataSaver: z.boolean(),
})

const settings = z.object({ enabled: z.boolean(), caps })
export type DonateSettings = z.infer<typeof settings>

/** Off, with caps a home connection and a laptop disk can spare. */
export const DEFAULT_DONATE_SETTINGS: DonateSettings = {
  enabled: false,
  caps: { storageMiB: 512, uploadKBps: 1024, dailyMiB: 2048, pauseWhenHidden: false, respectDataSaver: true },
}

/**
 * Checks caps typed by the user; returns them or one sentence saying what is wrong.
 * @example validateCaps({ ...caps, storageMiB: 0 }) // { error: 'Storage must be …' }
 */
export function validateCaps(value: DonorCaps): { caps: DonorCaps } | { error: string } {
  const parsed = caps.safeParse(value)
  if (parsed.success) return { caps: parsed.data }
  const field = String(parsed.error.issues[0]?.path[0] ?? 'A cap')
  const names: Record<string, string> = { storageMiB: 'Storage', uploadKBps: 'Upload rate', dailyMiB: 'Daily upload' }
  return { error: `${names[field] ?? field} must be a whole number within range (at least 1).` }
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
