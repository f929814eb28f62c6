import type { ServerResponse } from 'node:http'

/**
 * An AbortSignal that aborts when the response closes before it finished (the client left), so
 * work held for it — a long-poll's place among the waiters — is let go at once.
 */
export function closedSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) controller.abort()
  })
  return controller.signal
}
