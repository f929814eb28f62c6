import type { IncomingMessage, ServerResponse } from 'node:http'
import { InvalidRequestError, MAX_JSON_BODY, MessageTooLargeError, parseWith, toWireError } from '@konbini/protocol'
import type { z } from 'zod'

/** Sends a JSON document. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** Sends any thrown value as `{ error: { name, message } }`, never a stack trace. */
export function sendError(res: ServerResponse, err: unknown): void {
  const { status, body } = toWireError(err)
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, status, body)
}

/** Reads and validates a JSON body against a protocol schema. */
export async function readJson<T extends z.ZodType>(req: IncomingMessage, schema: T, max = MAX_JSON_BODY): Promise<z.infer<T>> {
  const chunks: Buffer[] = []
  let size = 0
  // a refusal breaks off the loop: the request must stay readable so the router can drain it
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > max) throw new MessageTooLargeError({ size, max })
    chunks.push(chunk)
  }
  let value: unknown
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new InvalidRequestError({ reason: 'the body is not JSON' })
  }
  return parseWith(schema, value)
}

export { parseWith }
