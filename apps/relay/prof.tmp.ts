import { createKonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { privateKeyToAccount } from 'viem/accounts'
import { readFileSync } from 'node:fs'
const dn = JSON.parse(readFileSync('/tmp/dn/devnet.json', 'utf8'))
const libp2p = await createNodeClientLibp2p()
const client = createKonbiniClient({ metaUrls: dn.metaUrls, account: privateKeyToAccount(dn.devKey), libp2p })
for (const transport of ['http', 'libp2p', 'http']) {
  const t0 = performance.now()
  const d = await client.open(process.argv[2] as string)
  ;(d.pool as any).init.transport = transport
  let n = 0
  for await (const c of (d.entry as any).content({ blockReadConcurrency: Number(process.argv[3] ?? d.readAhead) })) n += c.byteLength
  const ms = performance.now() - t0
  console.log(
    transport,
    n,
    ms.toFixed(0),
    'ms',
    (n / ms / 1000).toFixed(0),
    'MB/s',
    d.pool.stats().map((s) => s.blocks),
  )
  await d.finish()
}
await libp2p.stop()
