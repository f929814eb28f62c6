import { join } from 'node:path'
import { metaRoutes, openApiDocument } from '@konbini/protocol'
import type { IncomingMessage } from 'node:http'
import type { Logger } from 'pino'
import type { PrivateKeyAccount } from 'viem/accounts'
import type { z } from 'zod'
import type { RelayConfig } from '../config.ts'
import type { Metrics } from '../http/metrics.ts'
import { readJson, sendJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'
import type { Caller, MetaContext } from './context.ts'
import { MetaStore } from './db/meta-store.ts'
import { openPostgres } from './db/postgres.ts'
import { openSqlite } from './db/sqlite.ts'
import { findProviders } from './downloads.ts'
import { changeDenylist, getDenylist } from './denylist.ts'
import { acceptHeartbeat, acceptLeave, listNodes } from './nodes.ts'
import { listOwnerFiles, removeOwnerFile, statOwnerFile } from './owner-files.ts'
import { KeyedRateLimit } from './rate-limit.ts'
import { startAudits } from './audits.ts'
import { startRepair } from './repair.ts'
import { Slasher } from './slashing.ts'
import { TicketIssuer } from './tickets.ts'
import { acceptTransferReport } from './transfer-reports.ts'
import { NodeStakes } from './node-stake.ts'
import { acceptStorageReport, placeUpload, uploadStatus } from './uploads.ts'
import { UploadWaiters } from './upload-waiters.ts'
import { closedSignal } from '../http/closed-signal.ts'
import { PotStore } from './db/pot-store.ts'
import { EpochClock } from './epochs.ts'
import { acceptReceipts } from './receipts.ts'
import { cosignReport } from './cosign.ts'
import { acceptGrant, grantOf } from './grants.ts'
import { gatherSignatures } from './gather-signatures.ts'
import { epochStatus, rewardsOf, spendOf } from './settlement-routes.ts'
import { openSettlementChain } from '../pot/settlement-chain.ts'
import { publishArchive } from './publish-archive.ts'
import { InvalidRequestError } from '@konbini/protocol'
import type { Address } from 'viem'

export interface MetaNode {
  address: string
  store: MetaStore
  handlers: Handler[]
  repair: { runOnce(): Promise<number> }
  /** The proof-of-storage audit loop (`runOnce` returns how many audits failed). */
  audits: { runOnce(): Promise<number> }
  stop(): Promise<void>
}

/** Starts the meta role: the index over SQLite or PostgreSQL, and the control-plane API. */
export async function startMetaNode({
  config,
  account,
  metrics,
  log,
  httpUrl,
}: {
  config: RelayConfig
  account: PrivateKeyAccount
  metrics: Metrics
  log: Logger
  /** This process's own HTTP URL: the meta node publishes epoch archives through it. */
  httpUrl: string
}): Promise<MetaNode> {
  const db = config.databaseUrl ? await openPostgres(config.databaseUrl) : await openSqlite(join(config.dataDir, 'meta.sqlite'))
  const store = await MetaStore.open(db)
  const pot = new PotStore(db)
  const now = () => Math.floor(Date.now() / 1000)
  const chain = config.chain === undefined ? undefined : await openSettlementChain({ ...config.chain, account })
  const epochs =
    chain === undefined
      ? undefined
      : new EpochClock({
          pot,
          chain,
          account,
          epochSeconds: config.epochSeconds,
          graceSeconds: config.epochGraceSeconds,
          ticketSeconds: config.ticketSeconds,
          publish: (archive, epoch) => publishArchive({ metaUrl: httpUrl, account, chainId: config.chainId, archive, epoch }),
          gatherSignatures: (report, needed) =>
            gatherSignatures({ pot, store, self: account.address, report, needed, log, chainId: chain.chainId, settlement: chain.settlement }),
          log: log.child({ component: 'epochs' }),
          now,
        })
  const issuer = new TicketIssuer(account, config.chainId, config.ticketSeconds)
  const ctx: MetaContext = {
    store,
    pot,
    epochs,
    issuer,
    config,
    ticketLimit: new KeyedRateLimit({ rate: config.ticketRate, what: 'ticket requests' }),
    heartbeatLimit: new KeyedRateLimit({ rate: config.heartbeatRate, what: 'heartbeats' }),
    stakes: chain === undefined ? undefined : new NodeStakes(chain, config.minStake),
    slasher: chain === undefined ? undefined : new Slasher({ chain, account, issuer, store, pot, log: log.child({ component: 'slashing' }) }),
    metrics,
    uploadWaiters: new UploadWaiters(config.uploadWaiters),
    now,
  }
  metrics.gauge('konbini_upload_waiters', () => ctx.uploadWaiters.size)
  await pot.announceMeta(account.address, httpUrl, now())
  if (config.epochAggregator) await epochs?.start()
  const repair = startRepair({
    ctx,
    repairAfterSeconds: config.repairAfterSeconds,
    intervalMs: config.repairIntervalMs,
    log: log.child({ component: 'repair' }),
  })
  const audits = startAudits({ ctx, intervalMs: config.auditIntervalMs, perRound: config.auditsPerRound, log: log.child({ component: 'audits' }) })
  return {
    address: account.address,
    store,
    handlers: [metaHandler(ctx, account)],
    repair,
    audits,
    async stop() {
      ctx.uploadWaiters.stop()
      repair.stop()
      audits.stop()
      await epochs?.stop()
      await db.close()
    },
  }
}

type Routes = typeof metaRoutes
type RoutesWithBody = { [K in keyof Routes]: Routes[K] extends { body: z.ZodType } ? K : never }[keyof Routes]

const uploadStatusPath = /^\/v1\/uploads\/([^/]+)$/
const rewardsPath = /^\/v1\/rewards\/([^/]+)$/
const creditPath = /^\/v1\/credit\/([^/]+)$/
const grantPath = /^\/v1\/grants\/([^/]+)$/

function addressIn(pattern: RegExp, path: string): Address {
  const value = decodeURIComponent(pattern.exec(path)?.[1] ?? '')
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidRequestError({ reason: 'the path names no address' })
  return value as Address
}

/** The control-plane routes of `metaRoutes`, each validated by its protocol schema. */
export function metaHandler(ctx: MetaContext, account: PrivateKeyAccount): Handler {
  const r = metaRoutes
  return async (req, res, url) => {
    const path = url.pathname
    const post = req.method === 'POST'
    const caller: Caller = { ip: req.socket.remoteAddress ?? 'unknown' }
    const body = <K extends RoutesWithBody>(key: K) => readJson(req as IncomingMessage, r[key].body) as Promise<z.infer<Routes[K]['body']>>
    let result: unknown
    if (path === '/openapi.json' && req.method === 'GET') result = openApiDocument()
    else if (path === '/v1/meta' && req.method === 'GET') result = { address: ctx.issuer.address, chainId: ctx.config.chainId }
    else if (post && path === r.placement.path) result = await placeUpload(ctx, await body('placement'), caller)
    else if (post && path === r.providers.path) result = await findProviders(ctx, await body('providers'), caller)
    else if (post && path === r.heartbeat.path) result = await acceptHeartbeat(ctx, await body('heartbeat'), caller)
    else if (post && path === r.leave.path) result = await acceptLeave(ctx, await body('leave'))
    else if (post && path === r.storageReport.path) result = await acceptStorageReport(ctx, await body('storageReport'))
    else if (post && path === r.transferReport.path) result = await acceptTransferReport(ctx, await body('transferReport'))
    else if (post && path === r.ls.path) result = await listOwnerFiles(ctx, await body('ls'))
    else if (post && path === r.stat.path) result = await statOwnerFile(ctx, await body('stat'))
    else if (post && path === r.rm.path) result = await removeOwnerFile(ctx, await body('rm'))
    else if (req.method === 'GET' && path === r.nodes.path) result = await listNodes(ctx)
    else if (req.method === 'GET' && path === r.denylist.path) result = await getDenylist(ctx)
    else if (post && path === r.deny.path) result = await changeDenylist(ctx, await body('deny'))
    else if (post && path === r.receipts.path) result = await acceptReceipts(ctx, await body('receipts'))
    else if (post && path === r.grant.path) result = await acceptGrant(ctx, await body('grant'))
    else if (post && path === r.cosign.path) result = await cosignReport(ctx, account, await body('cosign'))
    else if (post && path === r.slashCosign.path) {
      if (ctx.slasher === undefined) throw new InvalidRequestError({ reason: 'this meta node settles on no chain: it slashes nothing' })
      // each request costs an audit: rate-limited like ticket requests
      ctx.ticketLimit.take(`ip:${caller.ip}`)
      result = await ctx.slasher.cosign(await body('slashCosign'))
    } else if (req.method === 'GET' && path === r.epoch.path) result = await epochStatus(ctx)
    else if (req.method === 'GET' && rewardsPath.test(path)) result = await rewardsOf(ctx, addressIn(rewardsPath, path))
    else if (req.method === 'GET' && creditPath.test(path)) result = await spendOf(ctx, addressIn(creditPath, path))
    else if (req.method === 'GET' && grantPath.test(path)) result = await grantOf(ctx, addressIn(grantPath, path))
    else if (req.method === 'GET' && uploadStatusPath.test(path)) {
      const ticketId = decodeURIComponent(uploadStatusPath.exec(path)?.[1] ?? '')
      result = await uploadStatus(ctx, ticketId, Number(url.searchParams.get('wait') ?? 0) || 0, caller, closedSignal(res))
    } else return false
    sendJson(res, 200, result)
    return true
  }
}
