import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { type IncomingMessage, request } from 'node:http'
import { pipeline } from 'node:stream/promises'

/** A plain `node:http` request on a new connection (no keep-alive pool), resolving with the response. */
function send(url: string, method: string, headers: Record<string, string | number> = {}, body?: (req: ReturnType<typeof request>) => Promise<void>) {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${url} answered ${res.statusCode}`))
      else resolve(res)
    })
    req.once('error', reject)
    if (body) body(req).catch(reject)
    else req.end()
  })
}

/** GETs `url` and writes the body to the file `out`; resolves with the bytes written. */
export async function httpGetToFile(url: string, out: string): Promise<number> {
  const res = await send(url, 'GET')
  let bytes = 0
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.byteLength
  })
  await pipeline(res, createWriteStream(out))
  return bytes
}

/** GETs `url` and returns the whole (small) body. */
export async function httpGetBytes(url: string): Promise<Buffer> {
  const res = await send(url, 'GET')
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** POSTs the file at `path` as the body; resolves with the answer's text once the server has answered. */
export async function httpPostFile(url: string, path: string): Promise<string> {
  const { size } = await stat(path)
  const res = await send(url, 'POST', { 'content-type': 'application/octet-stream', 'content-length': size }, (req) =>
    pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), req),
  )
  let text = ''
  for await (const chunk of res) text += String(chunk)
  return text
}
