import { AUDIT_FAILURE_LIMIT } from '@konbini/protocol'
import type { Logger } from 'pino'
import { auditHolder } from './audit.ts'
import type { MetaContext } from './context.ts'
import { type Periodic, startPeriodic } from './periodic.ts'

export interface AuditsInit {
  ctx: MetaContext
  /** Time between audit rounds. */
  intervalMs: number
  /** Holders challenged per round, least recently audited first. */
  perRound: number
  log: Logger
}

/**
 * The audit loop (proof of storage over time): every round challenges the least recently
 * audited replica holders for a random root-to-leaf path of their root. A holder that answers
 * without a block (or with other bytes) loses the replica at once — the repair loop copies the
 * root to a node that proves it — and the failure counts against the node, halving its score;
 * at AUDIT_FAILURE_LIMIT failures it is placed on, repaired to and read from no more, every
 * further failure drops its replica even when the failure is only silence, and (with a chain) a
 * meta quorum slashes its stake.
 */
export function startAudits(init: AuditsInit): Periodic {
  return startPeriodic(
    () => auditRound(init),
    init.intervalMs,
    (err) => init.log.warn({ err }, 'audit round failed'),
  )
}

/** One round; returns how many audits failed. */
async function auditRound({ ctx, perRound, log }: AuditsInit): Promise<number> {
  let failed = 0
  for (const target of await ctx.store.auditTargets(perRound)) {
    const outcome = await auditHolder(ctx.issuer, target, target.root)
    const now = ctx.now()
    if (outcome.passed) {
      await ctx.store.recordAudit({ root: target.root, peerId: target.peerId, passed: true, dropReplica: false, now })
      ctx.metrics.inc('konbini_audits_total', 1, { outcome: 'passed' })
      continue
    }
    failed++
    const node = await ctx.store.getNode(target.peerId)
    const dropReplica = outcome.lost || (node?.auditFailures ?? 0) + 1 >= AUDIT_FAILURE_LIMIT
    await ctx.store.recordAudit({ root: target.root, peerId: target.peerId, passed: false, dropReplica, now })
    // past the limit, the stake answers for it too (meta quorum, on chain)
    if ((node?.auditFailures ?? 0) + 1 >= AUDIT_FAILURE_LIMIT) ctx.slasher?.propose(target.peerId, target.root)
    ctx.metrics.inc('konbini_audits_total', 1, { outcome: 'failed' })
    log.warn({ peerId: target.peerId, root: target.root, reason: outcome.reason, dropReplica }, 'a holder failed its storage audit')
  }
  return failed
}
