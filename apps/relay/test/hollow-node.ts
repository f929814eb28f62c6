import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { signNodeStatement } from '@konbini/browser-node'
import {
  decodeFrame,
  encodeLengthPrefixed,
  FrameKind,
  FrameReader,
  IDENTITY_PATH,
  identityChallengeMessage,
  parseCid,
  type StorageReport,
  TICKET_HEADER,
  type UploadTicket,
} from '@konbini/protocol'
import { newStranger, strangerHeartbeat } from './stranger-node.ts'
import { postForError } from './wire.ts'

/** What a hollow node's own storage reports got from the meta node. */
export interface HollowReport {
  status: number
  name: string | undefined
}

/**
 * A stranger's node that stores nothing: it answers the identity challenge with its own key
 * (so it registers), takes its place in an upload pipeline by forwarding the body to the next
 * node and keeping none of it, signs a storage report as if it had, and answers storage
 * challenges with "don't have". The attack proof of storage stops.
 */
export async function startHollowNode(metaUrl: string, trustedMetas: readonly string[]) {
  const self = await newStranger()
  const { key, account, peerId } = self
  const reports: HollowReport[] = []
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    try {
      if (url.pathname === IDENTITY_PATH) {
        const signature = Buffer.from(await key.sign(identityChallengeMessage(url.searchParams.get('challenge') ?? ''))).toString('base64url')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ peerId, signature }))
      }
      if (url.pathname === '/v1/challenge') {
        const { challenge } = JSON.parse((await readBody(req)).toString('utf8')) as { challenge: { cids: string[] } }
        const frames = challenge.cids.map((c) => encodeLengthPrefixed({ kind: FrameKind.DontHave, cid: parseCid(c) }))
        return void res.writeHead(200, { 'content-type': 'application/vnd.konbini.frames' }).end(Buffer.concat(frames))
      }
      if (url.pathname === '/v1/upload') {
        const body = await readBody(req)
        const ticket = JSON.parse(Buffer.from(String(req.headers[TICKET_HEADER]), 'base64url').toString('utf8')).ticket as UploadTicket
        const next = ticket.urls[ticket.nodes.indexOf(peerId) + 1]
        let stored: string[] = []
        if (next !== undefined) {
          const headers: Record<string, string> = { 'content-type': 'application/vnd.konbini.frames' }
          for (const name of [TICKET_HEADER, 'x-konbini-route', 'x-konbini-part'])
            if (req.headers[name] !== undefined) headers[name] = String(req.headers[name])
          const answer = await fetch(new URL('/v1/upload', next), { method: 'POST', headers, body: new Uint8Array(body) })
          stored = ((await answer.json()) as { stored?: string[] }).stored ?? []
        }
        const root = endRoot(body)
        if (root !== undefined) {
          const report: StorageReport = {
            ticketId: ticket.id,
            peerId,
            operator: account.address,
            root,
            blocks: 1,
            bytes: body.byteLength,
            issuedAt: nowSeconds(),
          }
          const signature = await signNodeStatement({ account, kind: 'storage', peerId, body: report })
          reports.push(await postForError(metaUrl, '/v1/reports/storage', { body: report, signature }))
        }
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ root, stored: [peerId, ...stored], reported: true }))
      }
      res.writeHead(404).end()
    } catch (err) {
      res.writeHead(500).end(String(err))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const httpUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const beat = async () => postForError(metaUrl, '/v1/nodes/heartbeat', await strangerHeartbeat(self, httpUrl, trustedMetas))
  const first = await beat()
  if (first.status !== 200) throw new Error(`the hollow node was not registered: ${first.status} ${first.name}`)
  const timer = setInterval(() => void beat().catch(() => {}), 1000)
  return {
    peerId,
    httpUrl,
    /** The meta node's answers to this node's storage reports. */
    reports,
    stop() {
      clearInterval(timer)
      server.closeAllConnections()
      server.close()
    },
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The root named by an upload body's End frame, if it has one. */
function endRoot(body: Uint8Array): string | undefined {
  for (const frame of new FrameReader().push(body).map((f) => decodeFrame(f))) if (frame.kind === FrameKind.End) return frame.root.toString()
  return undefined
}
