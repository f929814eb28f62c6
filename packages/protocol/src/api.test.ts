import { describe, expect, test } from 'vitest'
import { metaRoutes, openApiDocument } from './api.ts'
import { scoreNode } from './scoring.ts'

describe('openApiDocument', () => {
  test('default: every meta route appears with its method, body schema and error shape', () => {
    const doc = openApiDocument()
    for (const [id, route] of Object.entries(metaRoutes)) {
      const op = (doc.paths[route.path] as Record<string, any>)[route.method]
      expect(op.operationId).toBe(id)
      expect(op.responses['4XX'].content['application/json'].schema.properties.error).toBeDefined()
      if ('body' in route) expect(op.requestBody.content['application/json'].schema.type).toBe('object')
    }
  })

  test('behavior: the placement body schema is the zod schema (the placement and its owner signature, required fields)', () => {
    const body = (openApiDocument().paths['/v1/uploads'] as any).post.requestBody.content['application/json'].schema
    expect(body.required).toEqual(expect.arrayContaining(['placement', 'auth']))
    const schema = body.properties.placement
    expect(schema.required).toEqual(expect.arrayContaining(['owner', 'name', 'size']))
    expect(schema.properties.owner.pattern).toBe('^0x[0-9a-fA-F]{40}$')
  })
})

describe('scoreNode', () => {
  const base = { throughputBps: 100 * 2 ** 20, latencyMs: 5, successRate: 1, activeTransfers: 0, sameRegion: false, freeFraction: 0.9 }
  test('behavior: slower, flakier, busier, farther or fuller nodes never rank higher', () => {
    const s = scoreNode(base)
    expect(scoreNode({ ...base, throughputBps: 10 * 2 ** 20 })).toBeLessThan(s)
    expect(scoreNode({ ...base, successRate: 0.8 })).toBeLessThan(s)
    expect(scoreNode({ ...base, activeTransfers: 8 })).toBeLessThan(s)
    expect(scoreNode({ ...base, latencyMs: 80 })).toBeLessThan(s)
    expect(scoreNode({ ...base, sameRegion: true })).toBeGreaterThan(s)
    expect(scoreNode({ ...base, freeFraction: 0 })).toBe(0)
  })
})
