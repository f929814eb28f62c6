import { describe, expect, test } from 'vitest'
import type { DonorCaps } from '../../lib/browser-konbini.ts'
import { validateCaps } from '../../lib/donate-settings.ts'
import { fromDraft, isNoCap, toDraft, UNREADABLE } from './caps-draft.ts'

const caps: DonorCaps = { storageMiB: 512, uploadKBps: 0, dailyMiB: 2048, pauseWhenHidden: true, respectDataSaver: false }

describe('caps draft', () => {
  test('behavior: "no cap" (0) shows as an empty field and comes back as 0', () => {
    const draft = toDraft(caps)
    expect(draft).toEqual({ storageMiB: '512', uploadKBps: '', dailyMiB: '2048', pauseWhenHidden: true, respectDataSaver: false })
    expect(fromDraft(draft)).toEqual(caps)
  })

  test('behavior: an empty or 0 upload cap reads as no cap; a number is a cap', () => {
    expect([isNoCap(''), isNoCap(' '), isNoCap('0'), isNoCap('1'), isNoCap(UNREADABLE)]).toEqual([true, true, true, false, false])
    expect(fromDraft({ ...toDraft(caps), uploadKBps: '0', dailyMiB: '' })).toMatchObject({ uploadKBps: 0, dailyMiB: 0 })
  })

  test('error: an empty storage or unreadable text is refused, not read as 0', () => {
    expect(validateCaps(fromDraft({ ...toDraft(caps), storageMiB: '' }))).toHaveProperty('error', expect.stringMatching(/^Storage/))
    expect(validateCaps(fromDraft({ ...toDraft(caps), uploadKBps: UNREADABLE }))).toHaveProperty('error', expect.stringMatching(/^Upload rate/))
  })
})
