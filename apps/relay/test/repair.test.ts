import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { base32 } from 'multiformats/bases/base32'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sha256File, writeRandomFile, writeSampleTree } from './files.ts'
import { untilGatewayServes } from './public-gateway.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

let net: TestNetwork

beforeAll(async () => {
  net = await startTestNetwork({
    resources: 4,
    metaEnv: { KONBINI_LIVE_SECONDS: '2', KONBINI_REPAIR_AFTER_SECONDS: '3', KONBINI_REPAIR_INTERVAL_MS: '300' },
    resourceEnv: { KONBINI_HEARTBEAT_MS: '400' },
  })
})

afterAll(async () => {
  await net?.stop()
})

interface Stat {
  root: string
  holders: string[]
  cached: string[]
}

async function stat(root: string): Promise<Stat> {
  const r = await net.cli(['stat', root, '--json'])
  if (r.code !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout).file
}

async function liveNodes(): Promise<Set<string>> {
  const { nodes } = JSON.parse((await net.cli(['nodes', '--json'])).stdout) as { nodes: Array<{ peerId: string; live: boolean }> }
  return new Set(nodes.filter((n) => n.live).map((n) => n.peerId))
}

/** Polls `check` until it is true (bounded); returns whether it became true. */
async function eventually(check: () => Promise<boolean>, seconds = 60): Promise<boolean> {
  for (const end = Date.now() + seconds * 1000; Date.now() < end; ) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 250))
  }
  return false
}

/** Which nodes hold the root block on disk (read from their stores). */
async function nodesWithBlock(root: string): Promise<string[]> {
  const name = CID.parse(root).toV1().toString(base32)
  const holders: string[] = []
  for (const [i, node] of net.devnet.nodes.entries()) {
    const files: string[] = await readdir(join(net.dataDir, `node${i + 1}`, 'blocks', name.slice(-3, -1))).catch(() => [])
    if (files.includes(name)) holders.push(node.ready?.peerId as string)
  }
  return holders
}

describe('repair', () => {
  test('default: a holder stopped past the repair time: every file it held is back to 3 live holders; its return is tracked as cache', async () => {
    const files: Array<{ path: string; root: string; tree?: boolean }> = []
    for (const size of [3 * 1024 * 1024 + 7, 9 * 1024 * 1024]) {
      const path = join(net.workDir, `f${size}.bin`)
      await writeRandomFile(path, size)
      files.push({ path, root: JSON.parse((await net.cli(['put', path, '--public', '--json'])).stdout).root })
    }
    const tree = join(net.workDir, 'tree')
    await writeSampleTree(tree)
    files.push({ path: tree, root: JSON.parse((await net.cli(['put', tree, '--json'])).stdout).root, tree: true })

    // stop a node that holds the first file
    const victimId = (await stat(files[0]?.root as string)).holders[0] as string
    const victim = net.devnet.nodes.find((n) => n.ready?.peerId === victimId)
    if (victim === undefined) throw new Error('victim not found')
    const held = [] as string[]
    for (const f of files) if ((await stat(f.root)).holders.includes(victimId)) held.push(f.root)
    await victim.kill('SIGTERM')

    const repaired = await eventually(async () => {
      const live = await liveNodes()
      for (const root of held) {
        const s = await stat(root)
        if (s.holders.length !== 3 || s.holders.includes(victimId) || !s.holders.every((h) => live.has(h))) return false
      }
      return true
    })
    expect(repaired).toBe(true)

    // the copies are real: each new holder's gateway serves the file byte-identical
    for (const f of files.filter((x) => !x.tree)) {
      for (const holder of (await stat(f.root)).holders) {
        const url = net.file.nodes.find((n) => n.peerId === holder)?.httpUrl
        // public files: each holder's gateway serves them once its heartbeat learned they are
        await untilGatewayServes(`${url}/ipfs/${f.root}`)
        const res = await fetch(`${url}/ipfs/${f.root}`)
        const body = Buffer.from(await res.arrayBuffer())
        const { createHash } = await import('node:crypto')
        expect(createHash('sha256').update(body).digest('hex')).toBe(await sha256File(f.path))
      }
    }

    // the stopped holder returns: its copies are known to the meta node as cache, none untracked
    await victim.start()
    const tracked = await eventually(async () => (await liveNodes()).has(victimId))
    expect(tracked).toBe(true)
    for (const root of held) {
      const s = await stat(root)
      expect(s.holders).toHaveLength(3)
      expect(s.cached).toContain(victimId)
      const onDisk = await nodesWithBlock(root)
      for (const peer of onDisk) expect([...s.holders, ...s.cached]).toContain(peer)
    }
  })
})
