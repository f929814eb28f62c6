import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Route = { body: string | Uint8Array; type?: string } | ((req: IncomingMessage, res: ServerResponse) => void)

export interface StaticServerInit {
  /** The bundle (an ES module) the page loads as `/bundle.js`. */
  script: string
  /** Page title (default `konbini e2e`). */
  title?: string
  /** Extra routes by exact path, e.g. `{ '/data.bin': { body, type: 'application/octet-stream' } }`. */
  routes?: Record<string, Route>
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>/`: the page. */
  url: string
  close(): Promise<void>
}

/**
 * Serves a tiny HTML page that loads `script` as a module, plus optional routes, on an
 * ephemeral port of 127.0.0.1.
 *
 * @example
 * const server = await startStaticServer({ script: (await bundle(entry)).code })
 * await page.goto(server.url)
 */
export async function startStaticServer(init: StaticServerInit): Promise<StaticServer> {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${init.title ?? 'konbini e2e'}</title></head><body><script type="module" src="/bundle.js"></script></body></html>`
  const routes: Record<string, Route> = {
    '/': { body: html, type: 'text/html; charset=utf-8' },
    '/bundle.js': { body: init.script, type: 'text/javascript; charset=utf-8' },
    ...init.routes,
  }
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname]
    if (typeof route === 'function') return route(req, res)
    if (route === undefined) {
      // a missing favicon is not worth a console error in the page
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404).end()
      return
    }
    res.writeHead(200, { 'content-type': route.type ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(route.body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
