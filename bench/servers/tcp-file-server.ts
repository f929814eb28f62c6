/**
 * Baseline server, run as its own process: a raw TCP socket on 127.0.0.1 that writes the file
 * given as argv[2] to every connection, then ends it. Prints `{"port":…}` on stdout when listening.
 */
import { createReadStream } from 'node:fs'
import { createServer } from 'node:net'
import { pipeline } from 'node:stream/promises'

const [, , servePath = ''] = process.argv

const server = createServer((socket) => {
  pipeline(createReadStream(servePath, { highWaterMark: 1024 * 1024 }), socket).catch(() => socket.destroy())
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
