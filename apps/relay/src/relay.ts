import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Libp2p } from 'libp2p'
import type { RelayConfig } from './config.ts'
import { capConnections } from './http/connection-caps.ts'
import { Metrics } from './http/metrics.ts'
import { type Handler, route } from './http/router.ts'
import { guardSlowClients, slowClientServerOptions } from './http/slow-clients.ts'
import { loadOperatorKey, loadPeerKey } from './keys.ts'
import { createRelayLibp2p } from './libp2p.ts'
import { createLogger } from './log.ts'
import { type MetaNode, startMetaNode } from './meta/meta-node.ts'
import { type ResourceNode, startResourceNode } from './resource/resource-node.ts'

export interface Relay {
  httpUrl: string
  libp2p: Libp2p | undefined
  meta: MetaNode | undefined
  resource: ResourceNode | undefined
  metrics: Metrics
  stop(): Promise<void>
}

/**
 * Starts one relay process with the roles its config names: `meta` (index + tickets),
 * `resource` (blocks), `relay` (circuit relay v2 for browsers; implied by `resource`).
 */
export async function createRelay(config: RelayConfig): Promise<Relay> {
  const log = createLogger(config.logLevel)
  const metrics = new Metrics()
  const handlers: Handler[] = [healthz(config), metrics.handler()]
  const serve = route(handlers, (err, path) => log.error({ err, path }, 'internal error'))
  // what a stranger can make this process hold is bounded per connection (timeouts) and in count (caps)
  const server = createServer(slowClientServerOptions(config.http), (req, res) => {
    if (!caps.isRefused(req.socket)) void serve(req, res)
  })
  server.keepAliveTimeout = 30_000
  const caps = capConnections(server, {
    perAddress: config.http.connectionsPerAddress,
    total: config.http.maxConnections,
    onRefused: (scope) => metrics.inc('konbini_http_connections_refused_total', 1, { scope }),
  })
  const slowClients = guardSlowClients(server, config.http, (why) => metrics.inc('konbini_http_slow_clients_closed_total', 1, { why }))
  metrics.gauge('konbini_http_connections_open', () => caps.open)
  await listen(server, config.httpPort, config.host)
  const httpUrl = `http://${config.host}:${(server.address() as AddressInfo).port}`

  let meta: MetaNode | undefined
  let resource: ResourceNode | undefined
  let libp2p: Libp2p | undefined
  try {
    if (config.roles.includes('meta')) {
      const account = await loadOperatorKey(config.dataDir, 'meta.key')
      meta = await startMetaNode({ config, account, metrics, log: log.child({ component: 'meta' }), httpUrl })
      handlers.push(...meta.handlers)
      log.info({ address: meta.address, httpUrl }, 'meta node started')
    }
    if (config.roles.includes('resource') || config.roles.includes('relay')) {
      const peerKey = await loadPeerKey(config.dataDir)
      libp2p = await createRelayLibp2p({ privateKey: peerKey, host: config.host, tcpPort: config.p2pPort, wsPort: config.wsPort, relayServer: true })
      if (config.roles.includes('resource')) {
        const operator = await loadOperatorKey(config.dataDir)
        resource = await startResourceNode({ config, libp2p, peerKey, operator, metrics, log, httpUrl })
        handlers.push(...resource.handlers)
        await resource.startHeartbeats()
      }
      log.info({ peerId: libp2p.peerId.toString(), multiaddrs: libp2p.getMultiaddrs().map(String), httpUrl }, 'resource node started')
    }
  } catch (err) {
    slowClients.stop()
    server.close()
    await libp2p?.stop()
    await meta?.stop()
    throw err
  }

  return {
    httpUrl,
    libp2p,
    meta,
    resource,
    metrics,
    async stop() {
      slowClients.stop()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      await resource?.stop()
      await libp2p?.stop()
      await meta?.stop()
    },
  }
}

function healthz(config: RelayConfig): Handler {
  return (_req, res, url) => {
    if (url.pathname !== '/healthz') return false
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ ok: true, roles: config.roles }))
    return true
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
