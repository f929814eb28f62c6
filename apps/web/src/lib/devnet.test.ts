import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isErrorNamed } from '@konbini/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readEnv } from '../env.ts'
import { readDevnetFile } from './devnet.ts'

const KEY = `0x${'11'.repeat(32)}`
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konbini-web-'))
  await writeFile(
    join(dir, 'devnet.json'),
    JSON.stringify({
      metaUrls: ['http://127.0.0.1:7171'],
      devKey: KEY,
      webUrl: 'http://localhost:3000',
      nodes: [{ peerId: '12D3KooWx', multiaddrs: ['/ip4/127.0.0.1/tcp/7301/ws'], httpUrl: 'http://127.0.0.1:7201', pid: 1 }],
      extra: 'kept',
    }),
  )
  await writeFile(join(dir, 'broken.json'), '{ not json')
  await writeFile(join(dir, 'wrong.json'), JSON.stringify({ metaUrls: [] }))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('readDevnetFile', () => {
  test('default', async () => {
    const devnet = await readDevnetFile(join(dir, 'devnet.json'))
    expect(devnet?.metaUrls).toEqual(['http://127.0.0.1:7171'])
    expect(devnet?.devKey).toBe(KEY)
    expect(devnet?.extra).toBe('kept')
    expect(devnet?.nodes[0]?.httpUrl).toBe('http://127.0.0.1:7201')
  })
  test('behavior: a missing file means no devnet', async () => {
    expect(await readDevnetFile(join(dir, 'absent.json'))).toBeUndefined()
  })
  test('error: invalid JSON or shape is a DevnetFileError', async () => {
    await expect(readDevnetFile(join(dir, 'broken.json'))).rejects.toSatisfy((e) => isErrorNamed(e, 'DevnetFileError'))
    await expect(readDevnetFile(join(dir, 'wrong.json'))).rejects.toThrow(/metaUrls Too small/)
  })
})

describe('readEnv', () => {
  test('default: without env or devnet file it uses the local meta node and no key', async () => {
    const env = await readEnv({}, dir)
    expect(env).toMatchObject({ metaUrls: ['http://127.0.0.1:7070'], devKey: undefined, chainId: 31337 })
    expect(env.devnetFile).toBe(join(dir, '../../.konbini/devnet.json'))
  })
  test('behavior: the devnet file fills what env leaves unset', async () => {
    const env = await readEnv({ KONBINI_DEVNET_FILE: 'devnet.json', KONBINI_DEV_KEY: '' }, dir)
    expect(env.metaUrls).toEqual(['http://127.0.0.1:7171'])
    expect(env.devKey).toBe(KEY)
  })
  test('behavior: env wins over the devnet file, and takes a comma-separated list', async () => {
    const other = `0x${'22'.repeat(32)}`
    const env = await readEnv({ KONBINI_DEVNET_FILE: 'devnet.json', KONBINI_META_URL: 'http://a:1, http://b:2', KONBINI_DEV_KEY: other }, dir)
    expect(env.metaUrls).toEqual(['http://a:1', 'http://b:2'])
    expect(env.devKey).toBe(other)
  })
  test('error: a malformed key or URL is a ConfigError', async () => {
    await expect(readEnv({ KONBINI_DEV_KEY: '0x1234', KONBINI_DEVNET_FILE: 'absent.json' }, dir)).rejects.toSatisfy((e) => isErrorNamed(e, 'ConfigError'))
    await expect(readEnv({ KONBINI_META_URL: 'not a url', KONBINI_DEVNET_FILE: 'absent.json' }, dir)).rejects.toThrow(/KONBINI_META_URL/)
  })
})

test('error: the message names the variable and what it must be', async () => {
  await expect(readEnv({ KONBINI_DEV_KEY: '0x1234', KONBINI_CHAIN_ID: 'x', KONBINI_DEVNET_FILE: 'absent.json' }, dir)).rejects.toThrow(
    "The portal's configuration is invalid: KONBINI_DEV_KEY must be a 0x-prefixed 32-byte hex private key; KONBINI_CHAIN_ID must be a positive integer.",
  )
})
