import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { createHelia } from 'helia'

export type StockHelia = ReturnType<typeof createHelia>

/** libp2p options closed to the internet: TCP + Noise + Yamux + identify on 127.0.0.1 only. */
export const loopbackTransport = () => ({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: [],
  services: { identify: identify() },
})

/**
 * A stock Helia node (npm packages only), closed to the internet: no bootstrap/mDNS/DHT/autoTLS,
 * no delegated routers or public gateways, Bitswap the only block broker.
 */
export async function stockHelia(): Promise<StockHelia> {
  const helia = createHelia({
    blockstore: new MemoryBlockstore(),
    datastore: new MemoryDatastore(),
    routers: [],
    http: { delegatedRouters: [], recursiveGateways: [] },
    libp2p: loopbackTransport(),
  })
  // createHelia always adds a trustless-gateway broker (idle without gateways): drop it
  const brokers = (helia as unknown as { blockBrokers: Array<{ name: string }> }).blockBrokers
  brokers.splice(
    brokers.findIndex((b) => b.name === 'trustless-gateway'),
    1,
  )
  await helia.start()
  return helia
}
