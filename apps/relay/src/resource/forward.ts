import { request } from 'node:http'
import type { NodeEndpoint } from '@konbini/protocol'
import { PART_HEADER, TICKET_HEADER } from '@konbini/protocol'

/** The downstream leg of an upload pipeline: a streaming POST to the next node. */
export interface Forward {
  write(chunk: Uint8Array): Promise<void>
  /** Ends the body and resolves with the next node's answer (its stored list), or rejects. */
  finish(): Promise<{ stored: string[] }>
  abort(): void
  readonly failed: boolean
}

/** Opens the streaming POST that forwards an upload body, unchanged, to `next`. */
export function forwardUpload(next: NodeEndpoint, ticketHeader: string, routeHeader: string, part = false): Forward {
  let failed = false
  let failure: unknown
  const url = new URL('/v1/upload', next.httpUrl)
  const req = request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/vnd.konbini.frames',
      [TICKET_HEADER]: ticketHeader,
      'x-konbini-route': routeHeader,
      ...(part && { [PART_HEADER]: '1' }),
    },
  })
  const answer = new Promise<{ stored: string[] }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          if (res.statusCode === 200 && Array.isArray(body.stored)) resolve({ stored: body.stored })
          else reject(new Error(body?.error?.message ?? `status ${res.statusCode}`))
        } catch (err) {
          reject(err)
        }
      })
      res.on('error', reject)
    })
    req.on('error', (err) => {
      failed = true
      failure = err
      reject(err)
    })
  })
  answer.catch(() => {})
  return {
    get failed() {
      return failed
    },
    async write(chunk) {
      if (failed) return
      if (!req.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            req.off('drain', done)
            req.off('error', done)
            req.off('close', done)
            resolve()
          }
          req.on('drain', done)
          req.on('error', done)
          req.on('close', done)
        })
      }
    },
    finish() {
      if (!failed) req.end()
      return failed ? Promise.reject(failure) : answer
    },
    abort() {
      failed = true
      req.destroy()
    },
  }
}
