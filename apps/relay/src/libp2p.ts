import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'

export interface RelayLibp2pInit {
  privateKey: PrivateKey
  host: string
  tcpPort: number
  wsPort: number
  /** Run the circuit relay v2 server (role `relay`, on by default for resource nodes). */
  relayServer: boolean
}

/** The relay's libp2p host: TCP between servers, WebSockets for browsers, circuit relay v2, identify, ping. */
export async function createRelayLibp2p(init: RelayLibp2pInit): Promise<Libp2p> {
  const services: Record<string, (components: any) => unknown> = {
    identify: identify(),
    ping: ping(),
  }
  if (init.relayServer) services.relay = circuitRelayServer({ reservations: { maxReservations: 128 } })
  return createLibp2p({
    privateKey: init.privateKey,
    addresses: {
      listen: [`/ip4/${init.host}/tcp/${init.tcpPort}`, `/ip4/${init.host}/tcp/${init.wsPort}/ws`],
    },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    // a client may open a session per download at once on a fresh connection: the default (10)
    // aborted the whole connection when streams arrived before its upgrade finished here
    streamMuxers: [yamux({ maxEarlyStreams: 256 })],
    connectionManager: { maxConnections: 1024 },
    // a ping on a busy connection waits behind the blocks queued on it: the default 5 s floor
    // aborted healthy connections (and every transfer on them) under load
    connectionMonitor: { pingTimeout: { minTimeout: 60_000, maxTimeout: 120_000 } },
    services,
  })
}
