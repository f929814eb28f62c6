import { describe, expect, test } from 'vitest'
import { boundedSample, FULL_SAMPLE_BYTES, MAX_PLAUSIBLE_BPS, MAX_REPORTED_FAILURES, SAMPLE_WEIGHT, scoreNode } from './scoring.ts'

const node = { throughputBps: 100 * 1024 * 1024, latencyMs: 10, activeTransfers: 0, sameRegion: false, freeFraction: 0.5 }

describe('scoreNode', () => {
  test('behavior: a node whose every report says it failed (success rate 0) ranks last but is still listed', () => {
    const failing = scoreNode({ ...node, successRate: 0 })
    expect(failing).toBeGreaterThan(0)
    expect(failing).toBeLessThan(scoreNode({ ...node, successRate: 0.5 }))
  })
})

describe('boundedSample', () => {
  test('behavior: bytes no more than proven, a rate no faster than MAX_PLAUSIBLE_BPS, failures capped, weight by what it covers', () => {
    const s = boundedSample({ bytes: 1e12, blocks: 1e9, millis: 1, failures: 1000 }, 4 * 1024 * 1024)
    expect(s.bytes).toBe(4 * 1024 * 1024)
    expect(s.bytes / (s.millis / 1000)).toBeLessThanOrEqual(MAX_PLAUSIBLE_BPS)
    expect(s.failures).toBe(MAX_REPORTED_FAILURES)
    expect(s.blocks).toBeLessThanOrEqual(s.bytes + 1)
    expect(s.weight).toBeCloseTo(SAMPLE_WEIGHT, 12)
    expect(boundedSample({ bytes: FULL_SAMPLE_BYTES / 4, blocks: 4, millis: 100, failures: 0 }, FULL_SAMPLE_BYTES).weight).toBeCloseTo(SAMPLE_WEIGHT / 4, 12)
    expect(boundedSample({ bytes: 1e6, blocks: 1, millis: 100, failures: 0 }, 0)).toMatchObject({ bytes: 0, weight: 0 })
  })
})
