import { resolve } from 'node:path'
import { type ChainContracts, chainContracts, RECEIPT_WAIT_MS } from '@konbini/protocol'
import { z } from 'zod'

const csv = z
  .string()
  .optional()
  .transform((v) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
  )
const bool = z.enum(['true', 'false', '1', '0']).optional()

/** Everything a relay process reads from its environment, validated once. */
export const relayEnv = z.object({
  KONBINI_ROLES: csv.pipe(z.array(z.enum(['resource', 'meta', 'relay'])).min(1)),
  KONBINI_DATA_DIR: z.string().min(1),
  KONBINI_HOST: z.string().default('127.0.0.1'),
  KONBINI_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  KONBINI_P2P_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  KONBINI_WS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  KONBINI_META_URLS: csv,
  KONBINI_TRUSTED_METAS: csv,
  KONBINI_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('local'),
  KONBINI_CAPACITY_BYTES: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(64 * 1024 ** 3),
  KONBINI_EGRESS_BPS: z.coerce.number().int().nonnegative().default(0),
  KONBINI_PUBLIC_BPS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(8 * 1024 * 1024),
  KONBINI_BITSWAP: bool.transform((v) => v !== 'false' && v !== '0'),
  KONBINI_HEARTBEAT_MS: z.coerce.number().int().positive().default(2000),
  KONBINI_DATABASE_URL: z.string().optional(),
  KONBINI_CHAIN_ID: z.coerce.number().int().positive().default(31337),
  KONBINI_LIVE_SECONDS: z.coerce.number().int().positive().default(10),
  KONBINI_TICKET_RATE: z.coerce.number().positive().default(50),
  KONBINI_HEARTBEAT_RATE: z.coerce.number().positive().default(20),
  KONBINI_MIN_STAKE: z
    .string()
    .regex(/^[0-9]{1,40}$/, 'a decimal amount in wei')
    .optional(),
  KONBINI_REPAIR_AFTER_SECONDS: z.coerce.number().int().positive().default(600),
  KONBINI_REPAIR_INTERVAL_MS: z.coerce.number().int().positive().default(5000),
  KONBINI_AUDIT_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  KONBINI_AUDITS_PER_ROUND: z.coerce.number().int().positive().max(10_000).default(32),
  KONBINI_ADMINS: csv.pipe(z.array(z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an EVM address'))),
  KONBINI_POPULARITY_HALF_LIFE_SECONDS: z.coerce.number().positive().default(3600),
  KONBINI_CACHE_ASSIGNMENTS: z.coerce.number().int().min(0).max(256).default(8),
  /** Recent provider requests per light-peer copy of a root: a root is assigned to more donors as its demand grows. */
  KONBINI_REQUESTS_PER_LIGHT_COPY: z.coerce.number().positive().default(2),
  /** Meta role: the chain that settles epochs (none: traffic is not paid, tickets are unpaid). */
  KONBINI_CHAIN_RPC_URL: z.string().url().optional(),
  /** Meta role: JSON `{ token, registry, credit, settlement }` of the deployed contracts. */
  KONBINI_CHAIN_CONTRACTS: z.string().optional(),
  /** Meta role: length of an accounting epoch. */
  KONBINI_EPOCH_SECONDS: z.coerce.number().int().positive().default(60),
  /** Meta role: receipts of an epoch still accepted this long after it ends (providers hand them in every few seconds). */
  KONBINI_EPOCH_GRACE_SECONDS: z.coerce.number().int().nonnegative().default(10),
  /**
   * Meta role: how long a download ticket stays valid. An epoch closes only once every ticket it
   * issued has expired (plus the grace), so a paid ticket's receipts all land in its epoch; a
   * longer download asks for a new ticket (the client renews it before it expires).
   */
  KONBINI_TICKET_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  /** Meta role: this meta node closes epochs and submits their reports (one per shared index); the others co-sign. */
  KONBINI_EPOCH_AGGREGATOR: bool.transform((v) => v !== 'false' && v !== '0'),
  /** Resource role: how often served receipts are handed to a meta node. */
  KONBINI_RECEIPT_FORWARD_MS: z.coerce.number().int().positive().default(3000),
  /** Resource role: how long a paid session waits for an overdue receipt before it ends (ReceiptsOverdueError). */
  KONBINI_RECEIPT_WAIT_MS: z.coerce.number().int().positive().default(RECEIPT_WAIT_MS),
  /** HTTP: the request line and headers must all arrive within this time (slow-header clients are closed). */
  KONBINI_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
  /**
   * HTTP: a connection on which nothing moves for this long while the client is the one to act
   * (send the body it announced, read the response it asked for, or send a next request) is closed.
   * Time the relay itself spends (a rate limit, a long-poll, a slow disk) does not count.
   */
  KONBINI_HTTP_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** HTTP: a request body must bring at least this many bytes per second over each idle window (0: no floor). */
  KONBINI_HTTP_MIN_BODY_BPS: z.coerce.number().int().nonnegative().default(1024),
  /** HTTP: open connections from one address (IPv6: one /64); more are refused with 503 TooManyConnectionsError. */
  KONBINI_HTTP_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().positive().default(64),
  /** HTTP: open connections in all; more are refused the same way. */
  KONBINI_HTTP_MAX_CONNECTIONS: z.coerce.number().int().positive().default(4096),
  /** Meta role: long-polls (`GET /v1/uploads/{id}?wait=`) one address may hold open at once; more get 429 RateLimitedError. */
  KONBINI_UPLOAD_WAITERS_PER_ADDRESS: z.coerce.number().int().positive().default(32),
  /** Meta role: long-polls held open in all. */
  KONBINI_UPLOAD_WAITERS: z.coerce.number().int().positive().default(2048),
  KONBINI_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
})

export type RelayConfig = {
  roles: ReadonlyArray<'resource' | 'meta' | 'relay'>
  dataDir: string
  host: string
  httpPort: number
  p2pPort: number
  wsPort: number
  /** Meta nodes a resource node reports to. */
  metaUrls: string[]
  /** Meta addresses whose tickets a resource node accepts. */
  trustedMetas: string[]
  region: string
  capacityBytes: number
  /** Operator egress cap in bytes per second (0: none). */
  egressBps: number
  /** Rate limit of the public path (Bitswap, gateway) in bytes per second (0: none). */
  publicBps: number
  bitswap: boolean
  heartbeatMs: number
  /** PostgreSQL URL for the meta role; SQLite in the data dir when absent. */
  databaseUrl: string | undefined
  chainId: number
  /** A node unseen for longer than this is not live. */
  liveSeconds: number
  /** Tickets per second one client may be issued. */
  ticketRate: number
  /** Heartbeats a meta node takes per second from one source address, and from one operator (bursts of twice that). */
  heartbeatRate: number
  /** With a chain: the least stake (wei) a full node needs in the Registry to be registered here; undefined: the Registry's own minimum. */
  minStake: bigint | undefined
  /** A replica holder unseen this long has its files copied elsewhere (meta role). */
  repairAfterSeconds: number
  repairIntervalMs: number
  /** Time between proof-of-storage audit rounds, and holders challenged per round. */
  auditIntervalMs: number
  auditsPerRound: number
  /** Addresses (lower-case) allowed to change the denylist (meta role). */
  admins: string[]
  /** Provider requests count for half as much after this many seconds (meta role: what light peers cache). */
  popularityHalfLifeSeconds: number
  /** Most roots one heartbeat answer asks a light peer to cache. */
  cacheAssignments: number
  requestsPerLightCopy: number
  /** Meta role: where epochs settle; undefined: no chain, traffic unpaid. */
  chain: { rpcUrl: string; contracts: ChainContracts } | undefined
  epochSeconds: number
  epochAggregator: boolean
  epochGraceSeconds: number
  ticketSeconds: number
  receiptForwardMs: number
  receiptWaitMs: number
  /** HTTP bounds on what one stranger can make the process hold (see the KONBINI_HTTP_* settings). */
  http: HttpLimits
  /** Meta role: upload-status long-polls held at once, per address and in all. */
  uploadWaiters: { perAddress: number; total: number }
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'
}

/** The HTTP server's timeouts and connection caps. */
export interface HttpLimits {
  headersTimeoutMs: number
  idleTimeoutMs: number
  minBodyBps: number
  connectionsPerAddress: number
  maxConnections: number
}

function parseContracts(json: string | undefined): ChainContracts {
  const parsed = chainContracts.safeParse(json === undefined ? undefined : JSON.parse(json))
  if (!parsed.success) throw new Error('Bad relay setting KONBINI_CHAIN_CONTRACTS: JSON { token, registry, credit, settlement } of addresses')
  return parsed.data
}

/** Reads and validates the relay's environment. Throws a readable zod error on bad values. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const parsed = relayEnv.safeParse(env)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new Error(`Bad relay setting ${issue?.path.join('.')}: ${issue?.message}`)
  }
  const e = parsed.data
  return {
    roles: e.KONBINI_ROLES,
    dataDir: resolve(e.KONBINI_DATA_DIR),
    host: e.KONBINI_HOST,
    httpPort: e.KONBINI_HTTP_PORT,
    p2pPort: e.KONBINI_P2P_PORT,
    wsPort: e.KONBINI_WS_PORT,
    metaUrls: e.KONBINI_META_URLS,
    trustedMetas: e.KONBINI_TRUSTED_METAS.map((a) => a.toLowerCase()),
    region: e.KONBINI_REGION,
    capacityBytes: e.KONBINI_CAPACITY_BYTES,
    egressBps: e.KONBINI_EGRESS_BPS,
    publicBps: e.KONBINI_PUBLIC_BPS,
    bitswap: e.KONBINI_BITSWAP,
    heartbeatMs: e.KONBINI_HEARTBEAT_MS,
    databaseUrl: e.KONBINI_DATABASE_URL,
    chainId: e.KONBINI_CHAIN_ID,
    liveSeconds: e.KONBINI_LIVE_SECONDS,
    ticketRate: e.KONBINI_TICKET_RATE,
    heartbeatRate: e.KONBINI_HEARTBEAT_RATE,
    minStake: e.KONBINI_MIN_STAKE === undefined ? undefined : BigInt(e.KONBINI_MIN_STAKE),
    repairAfterSeconds: e.KONBINI_REPAIR_AFTER_SECONDS,
    repairIntervalMs: e.KONBINI_REPAIR_INTERVAL_MS,
    auditIntervalMs: e.KONBINI_AUDIT_INTERVAL_MS,
    auditsPerRound: e.KONBINI_AUDITS_PER_ROUND,
    admins: e.KONBINI_ADMINS.map((a) => a.toLowerCase()),
    popularityHalfLifeSeconds: e.KONBINI_POPULARITY_HALF_LIFE_SECONDS,
    cacheAssignments: e.KONBINI_CACHE_ASSIGNMENTS,
    requestsPerLightCopy: e.KONBINI_REQUESTS_PER_LIGHT_COPY,
    chain: e.KONBINI_CHAIN_RPC_URL === undefined ? undefined : { rpcUrl: e.KONBINI_CHAIN_RPC_URL, contracts: parseContracts(e.KONBINI_CHAIN_CONTRACTS) },
    epochSeconds: e.KONBINI_EPOCH_SECONDS,
    epochAggregator: e.KONBINI_EPOCH_AGGREGATOR,
    epochGraceSeconds: e.KONBINI_EPOCH_GRACE_SECONDS,
    ticketSeconds: e.KONBINI_TICKET_SECONDS,
    receiptForwardMs: e.KONBINI_RECEIPT_FORWARD_MS,
    receiptWaitMs: e.KONBINI_RECEIPT_WAIT_MS,
    http: {
      headersTimeoutMs: e.KONBINI_HTTP_HEADERS_TIMEOUT_MS,
      idleTimeoutMs: e.KONBINI_HTTP_IDLE_TIMEOUT_MS,
      minBodyBps: e.KONBINI_HTTP_MIN_BODY_BPS,
      connectionsPerAddress: e.KONBINI_HTTP_CONNECTIONS_PER_ADDRESS,
      maxConnections: e.KONBINI_HTTP_MAX_CONNECTIONS,
    },
    uploadWaiters: { perAddress: e.KONBINI_UPLOAD_WAITERS_PER_ADDRESS, total: e.KONBINI_UPLOAD_WAITERS },
    logLevel: e.KONBINI_LOG_LEVEL,
  }
}
