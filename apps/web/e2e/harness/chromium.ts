import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

/** Debian's Chromium, or `KONBINI_CHROMIUM`. Playwright's own browser downloads are never used. */
export function chromiumPath(): string {
  return process.env.KONBINI_CHROMIUM ?? '/usr/bin/chromium'
}

/**
 * Flags from STACK.md: no background traffic, and every host name maps to nothing except
 * 127.0.0.1 (without it Chromium still looks up Google hosts at start).
 */
export const chromiumArgs: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
]

/** Host candidates as plain IPs, not mDNS `.local` names nobody would resolve on the test network. */
export const chromiumDisabledFeatures: readonly string[] = ['WebRtcHideLocalIpsWithMdns']

export interface LaunchChromiumOptions {
  /** More command-line flags. */
  args?: string[]
  /** More features for the (single) `--disable-features` list. */
  disableFeatures?: string[]
  executablePath?: string
}

/**
 * Launches headless Chromium (Debian's binary) through `playwright-core`. Closing the browser
 * removes its temp files.
 *
 * Chromium keeps only the last `--disable-features`, and Playwright passes its own list: a second
 * flag would switch Playwright's choices back on. So the browser starts through a small wrapper
 * that merges every `--disable-features` into one list.
 *
 * @example
 * const browser = await launchChromium()
 * const page = await browser.newPage()
 * const errors = collectPageErrors(page)
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const dir = await mkdtemp(join(tmpdir(), 'konbini-chromium-'))
  const wrapper = join(dir, 'chromium')
  await writeFile(wrapper, wrapperScript(options.executablePath ?? chromiumPath()))
  await chmod(wrapper, 0o755)
  try {
    const features = [...chromiumDisabledFeatures, ...(options.disableFeatures ?? [])]
    const browser = await chromium.launch({
      executablePath: wrapper,
      headless: true,
      args: [...chromiumArgs, `--disable-features=${features.join(',')}`, ...(options.args ?? [])],
    })
    browser.on('disconnected', () => void rm(dir, { recursive: true, force: true }))
    return browser
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

function wrapperScript(executable: string): string {
  const quoted = `'${executable.replaceAll("'", "'\\''")}'`
  return `#!/bin/bash
# konbini e2e: merge every --disable-features=… into one list (Chromium keeps only the last)
features=()
args=()
for a in "$@"; do
  case "$a" in
    --disable-features=*) features+=("\${a#--disable-features=}") ;;
    *) args+=("$a") ;;
  esac
done
if [ \${#features[@]} -gt 0 ]; then
  IFS=,
  args+=("--disable-features=\${features[*]}")
  unset IFS
fi
exec ${quoted} "\${args[@]}"
`
}

export interface JsHeap {
  /** `Runtime.getHeapUsage`: bytes in use / allocated for the page's JS heap. */
  usedBytes: number
  totalBytes: number
  /** `Performance.getMetrics`, e.g. `JSHeapUsedSize`, `Nodes`, `JSEventListeners`. */
  metrics: Record<string, number>
}

/** Reads a page's JS heap over CDP; with `gc`, collects garbage first (a steadier figure). */
export async function jsHeap(page: Page, options: { gc?: boolean } = {}): Promise<JsHeap> {
  const cdp = await page.context().newCDPSession(page)
  try {
    if (options.gc) await cdp.send('HeapProfiler.collectGarbage')
    const usage = await cdp.send('Runtime.getHeapUsage')
    await cdp.send('Performance.enable')
    const { metrics } = await cdp.send('Performance.getMetrics')
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize, metrics: Object.fromEntries(metrics.map((m) => [m.name, m.value])) }
  } finally {
    await cdp.detach().catch(() => {})
  }
}

/**
 * Collects the page's console errors and uncaught exceptions (live array), for a failing test's
 * message. With `KONBINI_E2E_DEBUG` set, also echoes every console line to stderr.
 */
export function collectPageErrors(page: Page, label = 'page'): string[] {
  const errors: string[] = []
  const echo = process.env.KONBINI_E2E_DEBUG !== undefined
  page.on('console', (message) => {
    if (echo) process.stderr.write(`[${label} ${message.type()}] ${message.text()}\n`)
    if (message.type() === 'error') errors.push(message.text())
  })
  page.on('pageerror', (err) => {
    if (echo) process.stderr.write(`[${label} pageerror] ${err.stack ?? err.message}\n`)
    errors.push(err.stack ?? err.message)
  })
  return errors
}
