/**
 * Waits until a holder's gateway serves a public root: holders learn which roots are public at
 * their next heartbeat after the placement (every 2 s in tests), so a test reading a just-uploaded
 * public file through a gateway waits for that first. Throws after `timeoutMs`.
 */
export async function untilGatewayServes(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  let last = 0
  while (performance.now() < deadline) {
    const res = await fetch(url, { method: 'HEAD' }).catch(() => undefined)
    last = res?.status ?? 0
    if (res?.ok) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${url} was not served within ${timeoutMs} ms (last status ${last})`)
}
