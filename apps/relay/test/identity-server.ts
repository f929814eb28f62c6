import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { IDENTITY_PATH, identityChallengeMessage } from '@konbini/protocol'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

/**
 * A stranger's own HTTP server on 127.0.0.1 that answers the identity challenge with `key`,
 * honestly: the URL a stranger's node may name in its heartbeats.
 */
export async function startIdentityServer(key: PrivateKey): Promise<{ url: string; close(): void }> {
  const peerId = peerIdFromPrivateKey(key).toString()
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname !== IDENTITY_PATH) return void res.writeHead(404).end()
    const signature = Buffer.from(await key.sign(identityChallengeMessage(url.searchParams.get('challenge') ?? ''))).toString('base64url')
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ peerId, signature }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }
}
