import { fileURLToPath } from 'node:url'
import { readConfig } from './config.ts'
import { createRelay } from './relay.ts'

/**
 * Runs one relay process: config from `env`, one JSON ready line on stdout,
 * a clean stop on SIGINT/SIGTERM.
 */
export async function runRelay(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const relay = await createRelay(readConfig(env))
  const ready = {
    ready: true,
    pid: process.pid,
    httpUrl: relay.httpUrl,
    peerId: relay.libp2p?.peerId.toString(),
    multiaddrs: relay.libp2p?.getMultiaddrs().map(String),
    metaAddress: relay.meta?.address,
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await relay.stop().catch(() => {})
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runRelay().catch((err) => {
    process.stderr.write(`konbini relay: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
}
