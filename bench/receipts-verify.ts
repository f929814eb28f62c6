import { createRequire } from 'node:module'
import { receiptTypedData, type SignedReceipt } from '@konbini/protocol'
import type * as Secp256k1 from 'secp256k1'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { nativeSecp256k1, receiptDigest, receiptDomainSeparator, recoverReceiptSigners } from '../apps/relay/src/pot/receipt-verifier.ts'
import { alternate, type Bench, median, round } from './harness.ts'

const RECEIPTS = 16_000
const RUNS = 5
const CHAIN_ID = 31337
const require = createRequire(import.meta.url)

/**
 * `receipts_verified_per_s`: the meta node's receipt check (EIP-712 digest with native keccak,
 * native secp256k1 recovery, signer compared with the consumer) over 16,000 receipts from 8
 * consumers, one thread, ÷ a bare native `ecdsaRecover` loop over the same signatures and
 * digests (what recovery alone costs); the median of 5 alternating runs' ratios. The detail shows
 * receipts per second (goal ≥ 10,000 per core).
 */
export const receiptsVerify: Bench = {
  names: ['receipts_verified_per_s'],
  async run() {
    const consumers = Array.from({ length: 8 }, () => privateKeyToAccount(generatePrivateKey()))
    const receipts: SignedReceipt[] = []
    for (let i = 0; i < RECEIPTS; i++) {
      const consumer = consumers[i % consumers.length] as (typeof consumers)[number]
      const receipt = {
        ticket: `0x${(i + 1).toString(16).padStart(64, '0')}`,
        consumer: consumer.address,
        provider: '12D3KooWCeUrkyov6SuzyGHANXUD8QrdmxbUsqRHtQWVVSnLMGKu',
        epoch: 3,
        bytes: (i + 1) * 4 * 1024 * 1024,
      }
      receipts.push({ receipt, signature: await consumer.signTypedData(receiptTypedData(receipt, CHAIN_ID)) })
    }
    const secp256k1 = require('secp256k1/bindings') as typeof Secp256k1
    const domain = receiptDomainSeparator(CHAIN_ID)
    const bare = receipts.map((r) => {
      const sig = Buffer.from(r.signature.slice(2), 'hex')
      return { rs: sig.subarray(0, 64), recid: (sig[64] as number) - 27, digest: receiptDigest(r.receipt, domain) }
    })
    const r = await alternate(RUNS, {
      konbini: async () => {
        const started = performance.now()
        const signers = recoverReceiptSigners(receipts, CHAIN_ID)
        const ms = performance.now() - started
        const valid = signers.filter((s, i) => s === receipts[i]?.receipt.consumer.toLowerCase()).length
        if (valid !== RECEIPTS) throw new Error(`only ${valid} of ${RECEIPTS} receipts verified`)
        return RECEIPTS / (ms / 1000)
      },
      ecdsaRecover: async () => {
        const started = performance.now()
        for (const b of bare) secp256k1.ecdsaRecover(b.rs, b.recid, b.digest, false)
        return RECEIPTS / ((performance.now() - started) / 1000)
      },
    })
    return {
      receipts_verified_per_s: {
        // paired: each run's ratio, then their median (a run's two loops share the machine's state)
        ratio: median(r.samples.konbini.map((k, i) => k / (r.samples.ecdsaRecover[i] as number))),
        goal: '>= 0.8',
        baseline: 'a bare native secp256k1 ecdsaRecover loop over the same signatures and precomputed digests, one thread, same run',
        detail: {
          receiptsPerSecond: Math.round(r.medians.konbini),
          receiptsPerSecondGoal: '>= 10000 (one core)',
          bareRecoversPerSecond: Math.round(r.medians.ecdsaRecover),
          receipts: RECEIPTS,
          runs: RUNS,
          nativeSecp256k1,
          machineBusyPctPerRound: r.busyPct,
          konbiniSamples: r.samples.konbini.map(round),
          baselineSamples: r.samples.ecdsaRecover.map(round),
          ratioSamples: r.samples.konbini.map((k, i) => round(k / (r.samples.ecdsaRecover[i] as number))),
        },
      },
    }
  },
}
