import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadPageConfig } from './page-config.ts'

const KEY = `0x${'22'.repeat(32)}` as const
const peer = '12D3KooWCeUrkyov6SuzyGHANXUD8QrdmxbUsqRHtQWVVSnLMGKu'
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konbini-page-config-'))
  await writeFile(
    join(dir, 'devnet.json'),
    JSON.stringify({
      metaUrls: ['http://127.0.0.1:7070'],
      metaAddresses: ['0x49D6Df922eCeD85Ddb230b45A0E3164e5b26a6d4'],
      devKey: KEY,
      chainId: 31337,
      nodes: [
        {
          peerId: peer,
          multiaddrs: [`/ip4/127.0.0.1/tcp/7201/p2p/${peer}`, `/ip4/127.0.0.1/tcp/7301/ws/p2p/${peer}`],
          httpUrl: 'http://127.0.0.1:7101',
          pid: 1,
        },
      ],
    }),
  )
  await writeFile(join(dir, 'bad-nodes.json'), JSON.stringify({ metaUrls: ['http://127.0.0.1:7070'], nodes: [{ multiaddrs: 'nope' }] }))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const env = (file: string, devKey: `0x${string}` | null = KEY) => ({
  metaUrls: ['http://127.0.0.1:7070'],
  devKey: devKey ?? undefined,
  chainId: 1,
  devnetFile: join(dir, file),
})

describe('loadPageConfig', () => {
  test('default: relays are the WebSocket addresses, trusted metas and chain from the devnet', async () => {
    expect(await loadPageConfig(env('devnet.json'))).toEqual({
      state: 'ok',
      init: {
        metaUrls: ['http://127.0.0.1:7070'],
        relays: [`/ip4/127.0.0.1/tcp/7301/ws/p2p/${peer}`],
        trustedMetas: ['0x49D6Df922eCeD85Ddb230b45A0E3164e5b26a6d4'],
        chainId: 31337,
      },
    })
  })

  test('behavior: no private key reaches the page, with or without a dev key on the server', async () => {
    for (const config of [await loadPageConfig(env('devnet.json')), await loadPageConfig(env('devnet.json', null))]) {
      expect(config.state).toBe('ok')
      expect(JSON.stringify(config)).not.toContain(KEY.slice(2))
      expect(JSON.stringify(config)).not.toMatch(/0x[0-9a-f]{64}/i)
    }
  })

  test('behavior: without a devnet file the page still gets the env (no relays)', async () => {
    const config = await loadPageConfig(env('absent.json'))
    expect(config).toMatchObject({ state: 'ok', init: { relays: [], trustedMetas: [], chainId: 1 } })
  })

  test('error: a devnet file with unusable nodes is a DevnetFileError', async () => {
    await expect(loadPageConfig(env('bad-nodes.json'))).rejects.toMatchObject({ name: 'DevnetFileError' })
  })
})
