import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'

/** A dial-only libp2p node for Node.js clients: TCP + Noise + Yamux, no listeners, no discovery. */
export async function createNodeClientLibp2p(): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // a ping on a busy connection waits behind the blocks queued on it: the default 5 s floor
    // aborted healthy connections (and every download on them) under load
    connectionMonitor: { pingTimeout: { minTimeout: 60_000, maxTimeout: 120_000 } },
    services: { identify: identify() },
  })
}
