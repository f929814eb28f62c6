import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { unixfs } from '@helia/unixfs'
import { CarBlockIterator } from '@ipld/car'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sha256File, writeRandomFile, writeSampleTree } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { untilGatewayServes } from './public-gateway.ts'
import { stockHelia } from './stock-helia.ts'
import { treeDigest } from './tree.ts'

const exec = promisify(execFile)
const BIG = 256 * 1024 * 1024

let net: TestNetwork
let bigRoot: string
let bigHolders: string[]
let bigPath: string

beforeAll(async () => {
  net = await startTestNetwork()
  bigPath = join(net.workDir, 'big.bin')
  await writeRandomFile(bigPath, BIG)
})

afterAll(async () => {
  await net?.stop()
})

describe('the spine on a local network (meta + 4 resource processes)', () => {
  test('default: put of a 256 MiB file reports 3 holders; get writes identical bytes', async () => {
    const put = await net.cli(['put', bigPath, '--public', '--json'])
    expect(put.stderr).toBe('')
    expect(put.code).toBe(0)
    const result = JSON.parse(put.stdout)
    expect(result.size).toBe(BIG)
    expect(new Set(result.holders).size).toBe(3)
    for (const holder of result.holders) expect(net.file.nodes.map((n) => n.peerId)).toContain(holder)
    bigRoot = result.root
    bigHolders = result.holders

    const got = await net.cli(['get', bigRoot, '-o', 'big.out', '--json'])
    expect(got.code).toBe(0)
    const download = JSON.parse(got.stdout)
    expect(download.bytes).toBe(BIG)
    expect(download.providers.filter((p: { blocks: number }) => p.blocks > 0).length).toBeGreaterThan(1)
    expect(await sha256File(join(net.workDir, 'big.out'))).toBe(await sha256File(bigPath))
  })

  test('behavior: a folder gets one CID and comes back as the same tree', async () => {
    const tree = join(net.workDir, 'tree')
    await writeSampleTree(tree)
    const put = await net.cli(['put', tree, '--json'])
    expect(put.code).toBe(0)
    const { root, kind, holders } = JSON.parse(put.stdout)
    expect(kind).toBe('directory')
    expect(CID.parse(root).code).toBe(0x70)
    expect(holders).toHaveLength(3)
    const again = JSON.parse((await net.cli(['put', tree, '--json'])).stdout)
    expect(again.root).toBe(root)

    const got = await net.cli(['get', root, '-o', 'tree.out'])
    expect(got.code).toBe(0)
    expect(await treeDigest(join(net.workDir, 'tree.out'))).toEqual(await treeDigest(tree))
  })

  test('behavior: stat shows the holders, ls lists the file, rm drops the pin', async () => {
    const small = join(net.workDir, 'small.txt')
    await writeRandomFile(small, 5000)
    const { root } = JSON.parse((await net.cli(['put', small, '--json'])).stdout)
    const stat = JSON.parse((await net.cli(['stat', root, '--json'])).stdout)
    expect(stat.file).toMatchObject({ root, name: 'small.txt', size: 5000 })
    expect(stat.file.holders).toHaveLength(3)
    const ls = JSON.parse((await net.cli(['ls', '--json'])).stdout)
    expect(ls.files.map((f: { root: string }) => f.root)).toContain(root)

    const rm = await net.cli(['rm', root, '--json'])
    expect(JSON.parse(rm.stdout)).toEqual({ removed: root })
    const after = JSON.parse((await net.cli(['ls', '--json'])).stdout)
    expect(after.files.map((f: { root: string }) => f.root)).not.toContain(root)
    const gone = await net.cli(['stat', root])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/^konbini: No file with CID .* is known/)
  })

  test('behavior: curl of the plain URL with a Range header returns exactly those bytes', async () => {
    const holder = net.file.nodes.find((n) => n.peerId === bigHolders[0]) as { httpUrl: string }
    const url = `${holder.httpUrl}/ipfs/${bigRoot}`
    await untilGatewayServes(url)
    const start = 1_048_000
    const end = 3_500_000
    const { stdout } = await exec('curl', ['-s', '-f', '-r', `${start}-${end}`, url], { encoding: 'buffer', maxBuffer: 8 << 20 })
    const original = await readFile(bigPath)
    expect(Buffer.compare(stdout, original.subarray(start, end + 1))).toBe(0)
    const head = await exec('curl', ['-s', '-I', '-r', `${start}-${end}`, url])
    expect(head.stdout).toMatch(/^HTTP\/1\.1 206/)
    expect(head.stdout.toLowerCase()).toContain(`content-range: bytes ${start}-${end}/${BIG}`)
  })

  test('behavior: the gateway CAR passes a stock CAR reader and every block hashes to its CID', async () => {
    const small = join(net.workDir, 'car-src.bin')
    await writeRandomFile(small, 5 * 1024 * 1024 + 3)
    const { root, holders } = JSON.parse((await net.cli(['put', small, '--public', '--json'])).stdout)
    const holder = net.file.nodes.find((n) => n.peerId === holders[1]) as { httpUrl: string }
    await untilGatewayServes(`${holder.httpUrl}/ipfs/${root}`)
    const res = await fetch(`${holder.httpUrl}/ipfs/${root}`, { headers: { accept: 'application/vnd.ipld.car' } })
    expect(res.headers.get('content-type')).toMatch(/^application\/vnd\.ipld\.car/)
    const car = await CarBlockIterator.fromBytes(new Uint8Array(await res.arrayBuffer()))
    expect((await car.getRoots()).map(String)).toEqual([root])
    let blocks = 0
    let leafBytes = 0
    for await (const { cid, bytes } of car) {
      expect((await sha256.digest(bytes)).digest).toEqual(cid.multihash.digest)
      if (cid.code === 0x55) leafBytes += bytes.byteLength
      blocks++
    }
    expect(blocks).toBe(7)
    expect(leafBytes).toBe(5 * 1024 * 1024 + 3)
  })

  test('behavior: a stock Helia node fetches the CID over Bitswap', async () => {
    const small = join(net.workDir, 'bitswap.bin')
    await writeRandomFile(small, 2 * 1024 * 1024 + 100)
    const { root, holders } = JSON.parse((await net.cli(['put', small, '--public', '--json'])).stdout)
    const holder = net.file.nodes.find((n) => n.peerId === holders[0]) as { httpUrl: string; multiaddrs: string[]; peerId: string }
    await untilGatewayServes(`${holder.httpUrl}/ipfs/${root}`)
    const helia = await stockHelia()
    try {
      const tcpAddr = holder.multiaddrs.find((a) => !a.includes('/ws')) as string
      const chunks: Uint8Array[] = []
      for await (const chunk of unixfs(helia).cat(CID.parse(root), { providers: [multiaddr(tcpAddr)], signal: AbortSignal.timeout(30_000) })) chunks.push(chunk)
      expect(Buffer.compare(Buffer.concat(chunks), await readFile(small))).toBe(0)
    } finally {
      await helia.stop()
    }
  })

  test('error: every command fails with one sentence and a non-zero exit', async () => {
    const bad = await net.cli(['get', 'not-a-cid', '--json'])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toBe('')
    expect(bad.stderr.trim().split('\n')).toEqual(['konbini: "not-a-cid" is not a valid CID.'])
    const missing = await net.cli(['put', join(net.workDir, 'no-such-file')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^konbini: No such file or folder/)
  })
})
