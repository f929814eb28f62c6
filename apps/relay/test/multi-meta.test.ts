import { join } from 'node:path'
import { signPlacement } from '@konbini/browser-node'
import { DEVNET_CHAIN_ID } from '@konbini/protocol'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MetaStore } from '../src/meta/db/meta-store.ts'
import { openPostgres } from '../src/meta/db/postgres.ts'
import { sha256File, writeRandomFile } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { createDatabase, startPostgres, type TestPostgres } from './postgres.ts'

const pg = await startPostgres()

describe.skipIf(pg === undefined)('two meta processes sharing one PostgreSQL index', () => {
  let net: TestNetwork
  let server: TestPostgres
  let dbUrl: string

  beforeAll(async () => {
    server = pg as TestPostgres
    dbUrl = await createDatabase(server.url, 'konbini_two_metas')
    net = await startTestNetwork({ metas: 2, metaEnv: { KONBINI_DATABASE_URL: dbUrl } })
  })

  afterAll(async () => {
    await net?.stop()
    await server?.stop()
  })

  test('default: each meta has its own key and resource nodes accept both', async () => {
    expect(net.file.metaUrls).toHaveLength(2)
    const addresses = await Promise.all(net.file.metaUrls.map(async (u) => ((await (await fetch(`${u}/v1/meta`)).json()) as { address: string }).address))
    expect(new Set(addresses).size).toBe(2)
    // an upload placed by either meta is accepted by the nodes
    for (const meta of net.file.metaUrls) {
      const path = join(net.workDir, `via-${new URL(meta).port}.bin`)
      await writeRandomFile(path, 2 * 1024 * 1024 + 1)
      const put = await net.cli(['put', path, '--json', '--meta', meta, '--key', net.file.devKey as string])
      expect(put.code).toBe(0)
      expect(JSON.parse(put.stdout).holders).toHaveLength(3)
    }
  })

  test('behavior: the same placement request sent to both metas at once is placed once', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const request = { owner: owner.address, name: 'once.bin', size: 1234, requestId: 'aa'.repeat(16) }
    const signed = await signPlacement(owner, request, DEVNET_CHAIN_ID)
    const answers = await Promise.all(
      net.file.metaUrls.map(async (u) =>
        (await fetch(`${u}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signed) })).json(),
      ),
    )
    const ids = answers.map((a) => (a as { upload: { ticket: { id: string } } }).upload.ticket.id)
    expect(ids[0]).toBe(ids[1])
    const store = new MetaStore(await openPostgres(dbUrl))
    try {
      const rows = await store.db.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM uploads WHERE request_id = $1', [request.requestId])
      expect(rows[0]?.n).toBe(1)
    } finally {
      await store.db.close()
    }
  })

  test('behavior: one repair lease per root across processes', async () => {
    const a = new MetaStore(await openPostgres(dbUrl))
    const b = new MetaStore(await openPostgres(dbUrl))
    try {
      const results = await Promise.all([a.tryLease('root-x', 'meta-a', 100, 200), b.tryLease('root-x', 'meta-b', 100, 200)])
      expect(results.filter(Boolean)).toHaveLength(1)
      expect(await b.tryLease('root-x', 'meta-b', 201, 300)).toBe(true) // after expiry
    } finally {
      await a.db.close()
      await b.db.close()
    }
  })

  test('behavior: killing one meta mid-run leaves put and get working through the other', async () => {
    const before = join(net.workDir, 'before.bin')
    await writeRandomFile(before, 5 * 1024 * 1024)
    const first = JSON.parse((await net.cli(['put', before, '--json'])).stdout)

    const during = join(net.workDir, 'during.bin')
    await writeRandomFile(during, 64 * 1024 * 1024)
    const put = net.cli(['put', during, '--json'])
    await new Promise((r) => setTimeout(r, 300))
    await net.devnet.metas[0]?.kill('SIGKILL')
    const result = await put
    expect(result.stderr).toBe('')
    const second = JSON.parse(result.stdout)
    expect(second.holders).toHaveLength(3)

    const after = join(net.workDir, 'after.bin')
    await writeRandomFile(after, 3 * 1024 * 1024)
    const third = JSON.parse((await net.cli(['put', after, '--json'])).stdout)
    for (const [file, root] of [
      [before, first.root],
      [during, second.root],
      [after, third.root],
    ] as const) {
      const out = `${root}.out`
      expect((await net.cli(['get', root, '-o', out])).code).toBe(0)
      expect(await sha256File(join(net.workDir, out))).toBe(await sha256File(file))
    }
  })
})
