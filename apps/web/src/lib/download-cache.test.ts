import { describe, expect, test, vi } from 'vitest'
import type { BrowserDownload } from './browser-konbini.ts'
import { reportMeasured } from './download-cache.ts'

/** Only `report` is under test; the rest of a download is not touched. */
const download = (report: () => Promise<void>) => ({ report }) as unknown as BrowserDownload

describe('reportMeasured', () => {
  test('behavior: asks the download to report once and returns at once', () => {
    const report = vi.fn(() => new Promise<void>(() => {}))
    expect(reportMeasured(download(report))).toBeUndefined()
    expect(report).toHaveBeenCalledTimes(1)
  })

  test("error: a failed report is swallowed (the meta node's figures are a hint)", async () => {
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    let rejected = false
    reportMeasured(
      download(() => {
        rejected = true
        return Promise.reject(new Error('meta unreachable'))
      }),
    )
    expect(rejected).toBe(true)
    // an unhandled rejection is reported after the microtask queue drains: wait for a macrotask
    await new Promise((resolve) => setImmediate(resolve))
    process.off('unhandledRejection', unhandled)
    expect(unhandled).not.toHaveBeenCalled()
  })
})
