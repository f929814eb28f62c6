import { type NodeInfo, ownerRequestTypedData, signedOwnerRequest } from '@konbini/protocol'
import { verifyTypedData } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { plainFileUrl } from './file-url.ts'
import { loadOverview } from './overview.ts'

const KEY = `0x${'11'.repeat(32)}` as const
const node = (peerId: string, live: boolean, httpUrl: string): NodeInfo => ({
  peerId,
  multiaddrs: [],
  httpUrl,
  operator: `0x${'ab'.repeat(20)}`,
  kind: 'full',
  region: 'local',
  capacityBytes: 1e9,
  usedBytes: 1e6,
  egressCapBps: 1e8,
  activeTransfers: 0,
  lastSeen: 1,
  live,
  throughputBps: 5e6,
  latencyMs: 2,
  successRate: 1,
  auditFailures: 0,
  score: 1,
})
const A = `12D3KooW${'A'.repeat(44)}`
const B = `12D3KooW${'B'.repeat(44)}`

describe('plainFileUrl', () => {
  test('default: first live holder, in holder order', () => {
    const nodes = [node(A, false, 'http://127.0.0.1:7101'), node(B, true, 'http://127.0.0.1:7102/')]
    expect(plainFileUrl({ root: 'bafyroot', holders: [A, B] }, nodes)).toBe('http://127.0.0.1:7102/ipfs/bafyroot')
  })
  test('behavior: no live or known holder gives no URL', () => {
    expect(plainFileUrl({ root: 'bafyroot', holders: [A, 'unknown'] }, [node(A, false, 'http://x')])).toBeUndefined()
  })
})

describe('loadOverview', () => {
  const env = { metaUrls: ['http://down.invalid:1', 'http://meta:7070'], devKey: KEY, chainId: 31337, devnetFile: '/x' }
  test('behavior: fails over to the next meta URL and signs ls', async () => {
    const seen: string[] = []
    let signedLs: ReturnType<typeof signedOwnerRequest.parse> | undefined
    const fake: typeof fetch = async (input, init) => {
      const url = String(input)
      seen.push(`${init?.method} ${url}`)
      if (url.startsWith('http://down.invalid')) throw new TypeError('fetch failed')
      if (url.endsWith('/v1/nodes')) return Response.json({ nodes: [node(A, true, 'http://127.0.0.1:7101')] })
      const body = signedOwnerRequest.parse(JSON.parse(String(init?.body)))
      signedLs = body
      return Response.json({ files: [{ root: 'bafyroot', name: 'a.txt', size: 3, owner: body.request.owner, createdAt: 1, holders: [A] }] })
    }
    const overview = await loadOverview(env, fake)
    // the ls request went out signed by the dev key's owner (the one signer the CLI uses too)
    expect(signedLs).toBeDefined()
    const owner = privateKeyToAccount(KEY).address
    expect(signedLs?.request.owner).toBe(owner)
    expect(
      signedLs &&
        (await verifyTypedData({ address: owner, ...ownerRequestTypedData(signedLs.request, 31337), signature: signedLs.signature as `0x${string}` })),
    ).toBe(true)
    expect(overview.nodes).toMatchObject({ state: 'ok', data: [{ peerId: A }] })
    expect(overview.files).toMatchObject({ state: 'ok', data: [{ name: 'a.txt' }] })
    expect(seen).toContain('POST http://meta:7070/v1/files/ls')
  })
  test('error: unreachable meta and wire errors become shown errors, not throws', async () => {
    const fake: typeof fetch = async (input) => {
      if (String(input).endsWith('/v1/nodes')) throw new TypeError('fetch failed')
      return Response.json({ error: { name: 'SignatureInvalidError', message: 'The request signature is missing, malformed or expired.' } }, { status: 401 })
    }
    const overview = await loadOverview(env, fake)
    expect(overview.nodes).toMatchObject({ state: 'error', error: { name: 'MetaUnavailableError' } })
    expect(overview.files).toMatchObject({ state: 'error', error: { name: 'SignatureInvalidError' } })
  })
  test('behavior: without a dev key the files section is skipped', async () => {
    const overview = await loadOverview({ ...env, devKey: undefined }, async () => Response.json({ nodes: [] }))
    expect(overview.files.state).toBe('skipped')
    expect(overview.owner).toBeUndefined()
  })
})
