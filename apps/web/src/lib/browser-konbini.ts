import type { BrowserKonbini, BrowserKonbiniInit } from '@konbini/browser-node'

export type { BrowserDownload, BrowserKonbini, BrowserKonbiniInit, Donor, DonorCaps, DonorStats, UploadProgress } from '@konbini/browser-node'

let shared: { key: string; client: Promise<BrowserKonbini> } | undefined

/**
 * The tab's one Konbini client, started on first use (the library is loaded then, after first
 * paint) and kept across page navigations so a donor keeps serving. A failed start is forgotten,
 * so the next call retries.
 * @example const konbini = await getBrowserKonbini(config)
 */
export function getBrowserKonbini(init: BrowserKonbiniInit): Promise<BrowserKonbini> {
  const key = JSON.stringify(init)
  if (shared?.key === key) return shared.client
  const previous = shared?.client
  const client = (async () => {
    await previous?.then((c) => c.stop()).catch(() => {})
    // loaded on first use, after first paint: libp2p never weighs on the page's first load
    const { createBrowserKonbini } = await import('@konbini/browser-node')
    return createBrowserKonbini(init)
  })()
  shared = { key, client }
  client.catch(() => {
    if (shared?.client === client) shared = undefined
  })
  return client
}
