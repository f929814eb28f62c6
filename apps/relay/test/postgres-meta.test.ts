import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sha256File, writeRandomFile, writeSampleTree } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { createDatabase, startPostgres, type TestPostgres } from './postgres.ts'
import { treeDigest } from './tree.ts'

const pg = await startPostgres()

describe.skipIf(pg === undefined)('a meta node on PostgreSQL', () => {
  let net: TestNetwork
  let server: TestPostgres

  beforeAll(async () => {
    server = pg as TestPostgres
    const url = await createDatabase(server.url, 'konbini_meta_e2e')
    net = await startTestNetwork({ metaEnv: { KONBINI_DATABASE_URL: url } })
  })

  afterAll(async () => {
    await net?.stop()
    await server?.stop()
  })

  test('default: put and get of a file and a folder, stat and ls, through the PostgreSQL index', async () => {
    const file = join(net.workDir, 'f.bin')
    await writeRandomFile(file, 9 * 1024 * 1024 + 17)
    const put = JSON.parse((await net.cli(['put', file, '--json'])).stdout)
    expect(put.holders).toHaveLength(3)
    expect((await net.cli(['get', put.root, '-o', 'f.out'])).code).toBe(0)
    expect(await sha256File(join(net.workDir, 'f.out'))).toBe(await sha256File(file))

    const tree = join(net.workDir, 'tree')
    await writeSampleTree(tree)
    const folder = JSON.parse((await net.cli(['put', tree, '--json'])).stdout)
    expect((await net.cli(['get', folder.root, '-o', 'tree.out'])).code).toBe(0)
    expect(await treeDigest(join(net.workDir, 'tree.out'))).toEqual(await treeDigest(tree))

    const stat = JSON.parse((await net.cli(['stat', put.root, '--json'])).stdout)
    expect(stat.file.holders.sort()).toEqual([...put.holders].sort())
    const ls = JSON.parse((await net.cli(['ls', '--json'])).stdout)
    expect(ls.files.map((f: { root: string }) => f.root).sort()).toEqual([put.root, folder.root].sort())
  })
})
