import type { Page } from 'playwright-core'

/** The resource nodes' counters a bench reads before and after its runs (Prometheus `/metrics`). */
export interface RelayCounters {
  /** `konbini_bytes_served_total`, every path (libp2p blocks, HTTP blocks), summed over the nodes. */
  bytesServed: number
  /** `konbini_block_sessions_refused_total` by error name. */
  refused: Record<string, number>
  /** `konbini_wantlist_throttled_total`: want-lists delayed by the per-session rate limit. */
  throttled: number
}

/** Sums the counters of every resource node (`httpUrls`: their HTTP base URLs). */
export async function readRelayCounters(httpUrls: readonly string[]): Promise<RelayCounters> {
  const texts = await Promise.all(
    httpUrls.map(async (url) => {
      const res = await fetch(`${url}/metrics`)
      if (!res.ok) throw new Error(`GET ${url}/metrics: ${res.status}`)
      return res.text()
    }),
  )
  const counters: RelayCounters = { bytesServed: 0, refused: {}, throttled: 0 }
  for (const line of texts.join('\n').split('\n')) {
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (!m) continue
    const [, name, labels = '', raw] = m
    const value = Number(raw)
    if (name === 'konbini_bytes_served_total') counters.bytesServed += value
    else if (name === 'konbini_wantlist_throttled_total') counters.throttled += value
    else if (name === 'konbini_block_sessions_refused_total') {
      const error = /error="([^"]*)"/.exec(labels)?.[1] ?? 'unknown'
      counters.refused[error] = (counters.refused[error] ?? 0) + value
    }
  }
  return counters
}

/** Every HTTP answer a tab got that a limit refused (429 rate limited, 413 quota spent): `status url`. */
export function watchRefusals(page: Page): string[] {
  const refusals: string[] = []
  page.on('response', (res) => {
    const status = res.status()
    if (status === 429 || status === 413) refusals.push(`${status} ${res.url().slice(0, 120)}`)
  })
  return refusals
}

/**
 * What per-source limits refused or held back between two readings, for a figure's detail: the
 * tabs' refused HTTP requests (the meta node's per-IP ticket limit answers 429; the client retries
 * them unseen), the resource nodes' refused block sessions and throttled want-lists. Every viewer
 * tab shares 127.0.0.1 here, so a per-IP limit meets all of them at once. The goal is 0.
 */
export function limitHits(before: RelayCounters, after: RelayCounters, tabRefusals: readonly string[]) {
  const refused: Record<string, number> = {}
  for (const [name, n] of Object.entries(after.refused)) {
    const delta = n - (before.refused[name] ?? 0)
    if (delta > 0) refused[name] = delta
  }
  const throttled = after.throttled - before.throttled
  const relayRefused = Object.values(refused).reduce((a, b) => a + b, 0)
  return {
    /** All of them: must be 0. */
    total: tabRefusals.length + relayRefused + throttled,
    tabHttpRefusals: tabRefusals.length,
    tabHttpRefusalExamples: tabRefusals.slice(0, 5),
    relaySessionsRefused: refused,
    relayWantlistsThrottled: throttled,
  }
}
