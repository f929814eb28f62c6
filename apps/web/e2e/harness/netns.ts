import { existsSync } from 'node:fs'
import { chromiumPath } from './chromium.ts'

/**
 * True when this process runs inside the test network namespace made by `scripts/test.mjs`
 * (`npm test`): only there does WebRTC find an interface with a default route, and only there is
 * every packet kept on this host.
 */
export function webrtcAvailable(): boolean {
  return process.env.KONBINI_NETNS !== undefined
}

/**
 * Whether a test that needs Chromium with WebRTC can run. When it cannot, prints a note and
 * returns false (skip), except under CI (`CI` set), where it throws: CI must run these tests.
 *
 * @example
 * const canRun = requireBrowserWebrtc()
 * describe.skipIf(!canRun)('two tabs', () => { … })
 */
export function requireBrowserWebrtc(): boolean {
  const missing: string[] = []
  if (!webrtcAvailable()) missing.push('not inside the test network namespace (run through `npm test`, as root with `ip`)')
  if (!existsSync(chromiumPath())) missing.push(`no Chromium at ${chromiumPath()} (apt-get install chromium, or set KONBINI_CHROMIUM)`)
  if (missing.length === 0) return true
  const note = `Browser WebRTC tests skipped: ${missing.join('; ')}.`
  if (process.env.CI) throw new Error(note)
  console.warn(note)
  return false
}
