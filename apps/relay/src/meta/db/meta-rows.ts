/** What a node states about itself in a heartbeat (a `Heartbeat` fits). */
export interface NodeInput {
  peerId: string
  operator: string
  kind: 'full' | 'light'
  multiaddrs: string[]
  /** Full nodes only: light peers (browser tabs) have no HTTP server. */
  httpUrl?: string | undefined
  region: string
  capacityBytes: number
  usedBytes: number
  egressCapBps: number
  activeTransfers: number
  /** Light peers only: the donor's caps and whether it serves now. */
  donor?: DonorState | undefined
  /** The heartbeat's number: a row is updated only by a higher one (0 or absent: not checked). */
  seq?: number
}

/** A light peer's donation settings as its last heartbeat stated them. */
export interface DonorState {
  storageCapBytes: number
  uploadCapBps: number
  dailyCapBytes: number
  servedBytes24h: number
  paused: boolean
}

/** A node as the meta node stores it: its statement plus what the meta node measured. */
export interface NodeRow extends NodeInput {
  /** Unix seconds of the last heartbeat. */
  lastSeen: number
  /** EWMA of measured transfer rate in bytes/s; 0 until a transfer moved bytes. */
  throughputBps: number
  /** EWMA of time to first byte in ms; 0 until one was measured. */
  latencyMs: number
  /** EWMA of the share of blocks served without failure (starts at 1). */
  successRate: number
  /** How many transfers were recorded. */
  transfers: number
  /** The URL that answered the identity challenge with this node's peer key (undefined: none yet). */
  verifiedUrl?: string
  /** Storage challenges it failed and passed (proof of storage). */
  auditFailures: number
  auditsPassed: number
}

/** One measured transfer from a node. */
export interface TransferSample {
  bytes: number
  millis: number
  failures: number
  blocks: number
  firstByteMs?: number
  /** How far this sample moves the averages (default 0.3). */
  weight?: number
}

/** An upload ticket the meta node issued. Times are unix seconds. */
export interface UploadInput {
  ticketId: string
  owner: string
  name: string
  size: number
  replicas: number
  /** Peer ids of the nodes chosen to store it. */
  nodes: string[]
  createdAt: number
  expiresAt: number
  /** The client's idempotency key: the same request placed again returns the same ticket. */
  requestId?: string | undefined
  /** The signed ticket and node endpoints as first answered (JSON), to answer a retry identically. */
  ticketJson?: string | undefined
  /** `upload` from a client, `repair` when the meta node re-replicates a file. */
  purpose?: 'upload' | 'repair'
  /** Light peers may cache the file once it completes. */
  public?: boolean
}

/** A node's statement that it stored an upload's DAG. */
export interface UploadReportInput {
  ticketId: string
  peerId: string
  root: string
  blocks: number
  bytes: number
  reportedAt: number
}

/** An upload with its completion state and the reports received so far. */
export interface UploadRow extends UploadInput {
  root: string | null
  completedAt: number | null
  reports: { peerId: string; root: string; blocks: number; bytes: number }[]
  /** Nodes of the ticket whose storage report failed its proof: they will never hold it. */
  failedNodes: string[]
}

/** An owner's pinned file and the nodes holding its root. */
export interface FileRow {
  owner: string
  root: string
  name: string
  size: number
  createdAt: number
  holders: string[]
  /** Extra copies the meta node knows of (a holder that came back, light peers caching it). */
  cached: string[]
  /** Light peers may cache and serve it. */
  public: boolean
}

/** Raw `nodes` row, as both drivers return it. */
export interface NodeRecord {
  peer_id: string
  operator: string
  kind: string
  multiaddrs: string
  http_url: string
  region: string
  capacity_bytes: number
  used_bytes: number
  egress_cap_bps: number
  active_transfers: number
  last_seen: number
  throughput_bps: number
  latency_ms: number
  success_rate: number
  transfers: number
  donor: string | null
  heartbeat_seq: number
  verified_url: string
  audit_failures: number
  audits_passed: number
}

/** Maps a raw `nodes` row to a {@link NodeRow}. */
export function toNodeRow(r: NodeRecord): NodeRow {
  return {
    peerId: r.peer_id,
    operator: r.operator,
    kind: r.kind === 'light' ? 'light' : 'full',
    multiaddrs: parseStringArray(r.multiaddrs),
    ...(r.http_url !== '' && { httpUrl: r.http_url }),
    region: r.region,
    capacityBytes: r.capacity_bytes,
    usedBytes: r.used_bytes,
    egressCapBps: r.egress_cap_bps,
    activeTransfers: r.active_transfers,
    lastSeen: r.last_seen,
    throughputBps: r.throughput_bps,
    latencyMs: r.latency_ms,
    successRate: r.success_rate,
    transfers: r.transfers,
    seq: Number(r.heartbeat_seq),
    ...(r.verified_url !== '' && { verifiedUrl: r.verified_url }),
    auditFailures: Number(r.audit_failures ?? 0),
    auditsPassed: Number(r.audits_passed ?? 0),
    ...(r.donor && { donor: parseDonor(r.donor) }),
  }
}

function parseDonor(text: string): DonorState {
  const d = JSON.parse(text) as Partial<DonorState>
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  return {
    storageCapBytes: n(d.storageCapBytes),
    uploadCapBps: n(d.uploadCapBps),
    dailyCapBytes: n(d.dailyCapBytes),
    servedBytes24h: n(d.servedBytes24h),
    paused: d.paused === true,
  }
}

/** Reads a JSON array of strings stored as TEXT; anything else reads as empty. */
export function parseStringArray(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text)
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
  } catch {
    return []
  }
}
