/**
 * Baseline server, run as its own process: plain `node:http` on 127.0.0.1.
 * `GET /file` streams the file given as argv[2]; `POST /upload` writes the body to a new file
 * in the folder argv[3], fsyncs it and its folder, then answers 200.
 * Prints `{"port":…}` on stdout when listening.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

const [, , servePath = '', uploadDir = ''] = process.argv
let uploads = 0

const server = createServer(async (req, res) => {
  try {
    if (req.method === 'GET' && req.url === '/file') {
      const { size } = await stat(servePath)
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
      await pipeline(createReadStream(servePath, { highWaterMark: 1024 * 1024 }), res)
      return
    }
    if (req.method === 'POST' && req.url === '/upload') {
      const path = join(uploadDir, `upload-${process.pid}-${uploads++}`)
      const out = createWriteStream(path)
      await pipeline(req, out)
      const file = await open(path, 'r+')
      await file.sync()
      await file.close()
      const dir = await open(uploadDir, 'r')
      await dir.sync()
      await dir.close()
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path }))
      return
    }
    res.writeHead(404).end()
  } catch (err) {
    if (!res.headersSent) res.writeHead(500)
    res.end(String(err))
  }
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
