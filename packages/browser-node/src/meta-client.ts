import { isErrorNamed, MetaUnavailableError, metaRoutes, RemoteError, type Route } from '@konbini/protocol'
import type { z } from 'zod'

type Routes = typeof metaRoutes
type Body<K extends keyof Routes> = Routes[K] extends { body: z.ZodType } ? z.input<Routes[K]['body']> : never
type Answer<K extends keyof Routes> = z.infer<Routes[K]['response']>

export interface MetaClientInit {
  /** Meta node URLs, tried in order; a dead one is skipped until the others fail too. */
  urls: readonly string[]
  timeoutMs?: number
  fetch?: typeof fetch
}

/**
 * The control-plane client: one method per meta route, answers validated by the same zod
 * schemas the meta node uses. Fails over between meta URLs on network errors and 5xx.
 *
 * @example
 * const meta = new MetaClient({ urls: ['http://127.0.0.1:7070'] })
 * const { nodes } = await meta.get('nodes')
 */
export class MetaClient {
  readonly urls: readonly string[]
  private preferred = 0
  private readonly timeoutMs: number
  private readonly fetchFn: typeof fetch

  constructor(init: MetaClientInit) {
    if (init.urls.length === 0) throw new MetaUnavailableError({ urls: [] })
    this.urls = init.urls
    this.timeoutMs = init.timeoutMs ?? 30_000
    this.fetchFn = init.fetch ?? globalThis.fetch.bind(globalThis)
  }

  post<K extends keyof Routes>(key: K, body: Body<K>): Promise<Answer<K>> {
    const route = metaRoutes[key] as Route
    return this.request(route.path, { method: 'POST', body: JSON.stringify(body) }, route)
  }

  get<K extends keyof Routes>(key: K, params: Record<string, string> = {}, query = ''): Promise<Answer<K>> {
    const route = metaRoutes[key] as Route
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''))
    return this.request(`${path}${query}`, { method: 'GET' }, route)
  }

  private async request<T>(path: string, init: RequestInit, route: Route): Promise<T> {
    // a rate-limited request is retried after a short, growing pause (bounded)
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce<T>(path, init, route)
      } catch (err) {
        if (!isErrorNamed(err, 'RateLimitedError') || attempt >= 5) throw err
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt + Math.random() * 100))
      }
    }
  }

  private async requestOnce<T>(path: string, init: RequestInit, route: Route): Promise<T> {
    let lastError: unknown = new MetaUnavailableError({ urls: this.urls })
    for (let i = 0; i < this.urls.length; i++) {
      const index = (this.preferred + i) % this.urls.length
      let res: Response
      const send = () =>
        this.fetchFn(new URL(path, this.urls[index]), {
          ...init,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.timeout(this.timeoutMs),
        })
      try {
        res = await send().catch((err: unknown) => {
          // a pooled keep-alive socket the server closed as it was reused (a busy client's idle
          // timer runs late): the server read nothing, so one fresh try is safe
          if (staleSocket(err)) return send()
          throw err
        })
      } catch {
        continue // unreachable or timed out: try the next meta node
      }
      const answer = (await res.json().catch(() => undefined)) as { error?: { name: string; message: string } } | undefined
      if (res.ok) {
        this.preferred = index
        return route.response.parse(answer) as T
      }
      lastError = new RemoteError(answer?.error?.name ?? 'RemoteError', answer?.error?.message ?? `The meta node answered ${res.status}.`, res.status)
      if (res.status < 500) throw lastError
    }
    throw lastError
  }
}

/** Node's fetch (undici) failing on a kept-alive socket the server had closed. */
function staleSocket(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET'
}
