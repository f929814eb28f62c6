import { createKonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { privateKeyToAccount } from 'viem/accounts'
import { readFileSync } from 'node:fs'
const dn = JSON.parse(readFileSync('/tmp/dn/devnet.json', 'utf8'))
const libp2p = await createNodeClientLibp2p()
const client = createKonbiniClient({ metaUrls: dn.metaUrls, account: privateKeyToAccount(dn.devKey), libp2p })
const root = process.argv[2] as string
const all = (await client.open(root)).pool.stats().map((s) => s.peerId)
for (const only of [all.slice(0, 1), all.slice(0, 2), all, all.slice(0, 1)]) {
  const t0 = performance.now()
  const d = await client.open(root, { only })
  let n = 0
  for await (const c of (d.entry as any).content({ blockReadConcurrency: 32 })) n += c.byteLength
  const ms = performance.now() - t0
  console.log(only.length, 'providers', (n / ms / 1000).toFixed(0), 'MB/s')
  await d.finish()
}
await libp2p.stop()
