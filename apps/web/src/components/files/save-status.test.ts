import { describe, expect, test } from 'vitest'
import { saveStatusText } from './save-status.ts'

describe('saveStatusText', () => {
  test('behavior: a finished save says its share from peers, 0 % included', () => {
    expect(saveStatusText({ state: 'saved', peerShare: 0 })).toBe('Saved · 0 % from peers')
    expect(saveStatusText({ state: 'saved', peerShare: 0.426 })).toBe('Saved · 43 % from peers')
  })

  test('behavior: a running save says its share once a byte arrived, not before', () => {
    expect(saveStatusText({ state: 'saving', sent: 0, size: 0, peerShare: 0 })).toBe('Saving…')
    expect(saveStatusText({ state: 'saving', sent: 0, size: 100, peerShare: 0 })).toBe('Saving… 0 %')
    expect(saveStatusText({ state: 'saving', sent: 25, size: 100, peerShare: 0 })).toBe('Saving… 25 % · 0 % from peers')
    expect(saveStatusText({ state: 'saving', sent: 50, size: 100, peerShare: 1 })).toBe('Saving… 50 % · 100 % from peers')
  })

  test('behavior: cancelled, failed and unknown saves', () => {
    expect(saveStatusText({ state: 'cancelled' })).toBe('Save cancelled')
    expect(saveStatusText({ state: 'error', message: 'The download failed.' })).toBe('The download failed.')
    expect(saveStatusText(undefined)).toBe('')
  })
})
