import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NodeEndpoint } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { privateKeyToAccount } from 'viem/accounts'
import { readConfig } from '../src/config.ts'
import { createRelay, type Relay } from '../src/relay.ts'

type Hex = `0x${string}`

/** One resource node with no meta node, trusting tickets signed by `metaKey`: tests sign its tickets themselves. */
export async function startLoneNode(metaKey: Hex): Promise<{ relay: Relay; self: NodeEndpoint; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'konbini-lone-'))
  const relay = await createRelay(
    readConfig({
      KONBINI_ROLES: 'resource',
      KONBINI_DATA_DIR: dir,
      KONBINI_TRUSTED_METAS: privateKeyToAccount(metaKey).address,
      KONBINI_BITSWAP: 'false',
      KONBINI_LOG_LEVEL: 'silent',
    }),
  )
  const libp2p = relay.libp2p as Libp2p
  return {
    relay,
    self: { peerId: libp2p.peerId.toString(), multiaddrs: libp2p.getMultiaddrs().map(String), httpUrl: relay.httpUrl },
    async stop() {
      await relay.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
