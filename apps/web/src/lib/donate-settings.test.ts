import { describe, expect, test } from 'vitest'
import type { DonorCaps } from './browser-konbini.ts'
import { DEFAULT_DONATE_SETTINGS, DONATE_SETTINGS_KEY, loadDonateSettings, NO_CAP, saveDonateSettings, validateCaps } from './donate-settings.ts'

const caps: DonorCaps = { storageMiB: 512, uploadKBps: 1024, dailyMiB: 2048, pauseWhenHidden: false, respectDataSaver: true }

/** A Storage holding one key's value. */
function memoryStorage(initial?: string) {
  const items = new Map<string, string>(initial === undefined ? [] : [[DONATE_SETTINGS_KEY, initial]])
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) }
}

describe('validateCaps', () => {
  test('behavior: 0 means no cap for the upload rate and the daily upload', () => {
    expect(validateCaps({ ...caps, uploadKBps: NO_CAP, dailyMiB: NO_CAP })).toEqual({ caps: { ...caps, uploadKBps: 0, dailyMiB: 0 } })
  })

  test('behavior: positive whole caps pass unchanged', () => {
    expect(validateCaps(caps)).toEqual({ caps })
  })

  test('error: storage must be positive (0 is no "no cap" for storage)', () => {
    expect(validateCaps({ ...caps, storageMiB: 0 })).toEqual({ error: 'Storage must be a whole number of MiB from 1 to 1048576.' })
    expect(validateCaps({ ...caps, storageMiB: Number.NaN })).toHaveProperty('error', expect.stringMatching(/^Storage must be/))
  })

  test.each([
    ['uploadKBps', -1, /^Upload rate must be a whole number of KiB\/s up to \d+, or 0 for no cap\.$/],
    ['uploadKBps', 1.5, /^Upload rate must be/],
    ['uploadKBps', Number.NaN, /^Upload rate must be/],
    ['uploadKBps', 10_000_001, /^Upload rate must be/],
    ['dailyMiB', -5, /^Daily upload must be a whole number of MiB up to \d+, or 0 for no cap\.$/],
    ['dailyMiB', 0.25, /^Daily upload must be/],
  ] as const)('error: %s = %s is refused with a sentence', (field, value, sentence) => {
    const checked = validateCaps({ ...caps, [field]: value })
    expect(checked).toHaveProperty('error', expect.stringMatching(sentence))
  })
})

describe('donate settings', () => {
  test('default: off, no rate cap, 10 GiB a day, 512 MiB of storage — and valid', () => {
    expect(DEFAULT_DONATE_SETTINGS).toEqual({
      enabled: false,
      caps: { storageMiB: 512, uploadKBps: NO_CAP, dailyMiB: 10 * 1024, pauseWhenHidden: false, respectDataSaver: true },
    })
    expect(validateCaps(DEFAULT_DONATE_SETTINGS.caps)).toEqual({ caps: DEFAULT_DONATE_SETTINGS.caps })
  })

  test('behavior: settings stored with the old 1024 KiB/s default still load as they were', () => {
    const stored = { enabled: true, caps: { storageMiB: 512, uploadKBps: 1024, dailyMiB: 2048, pauseWhenHidden: false, respectDataSaver: true } }
    expect(loadDonateSettings(memoryStorage(JSON.stringify(stored)))).toEqual(stored)
  })

  test('behavior: "no cap" survives a save and a load', () => {
    const storage = memoryStorage()
    const value = { enabled: true, caps: { ...caps, uploadKBps: NO_CAP, dailyMiB: NO_CAP } }
    saveDonateSettings(value, storage)
    expect(loadDonateSettings(storage)).toEqual(value)
  })

  test('behavior: unreadable or out-of-range stored settings give the defaults', () => {
    expect(loadDonateSettings(memoryStorage('{not json'))).toEqual(DEFAULT_DONATE_SETTINGS)
    expect(loadDonateSettings(memoryStorage(JSON.stringify({ enabled: true, caps: { ...caps, storageMiB: 0 } })))).toEqual(DEFAULT_DONATE_SETTINGS)
    expect(loadDonateSettings(memoryStorage())).toEqual(DEFAULT_DONATE_SETTINGS)
  })
})
