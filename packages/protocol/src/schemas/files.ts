import { z } from 'zod'
import { address, byteCount, cidString, fileName, peerId, signature, unixSeconds } from './common.ts'
import { nodeEndpoint, nodeInfo } from './nodes.ts'
import { signedDownloadTicket, signedUploadTicket } from './tickets.ts'
import { signedAccessGrant } from '../access-grant.ts'

/** A request an owner signs to read or change their own files. */
/** `deny`/`allow` add a root to or drop it from the light peers' denylist: only meta-configured admins may. */
export const ownerAction = z.enum(['ls', 'stat', 'rm', 'deny', 'allow', 'place', 'read'])
export const ownerRequest = z.object({
  owner: address,
  action: ownerAction,
  target: z.string().max(200),
  nonce: z.string().regex(/^[0-9a-f]{16,64}$/),
  expiresAt: unixSeconds,
})
export type OwnerRequest = z.infer<typeof ownerRequest>
export const signedOwnerRequest = z.object({ request: ownerRequest, signature })
export type SignedOwnerRequest = z.infer<typeof signedOwnerRequest>

export const placementRequest = z.object({
  owner: address,
  name: fileName,
  size: byteCount,
  replicas: z.number().int().min(1).max(16).optional(),
  region: z.string().max(32).optional(),
  /** Idempotency key: placing the same request again (at any meta node) returns the same ticket. */
  requestId: z
    .string()
    .regex(/^[0-9a-f]{16,64}$/)
    .optional(),
  /** Public files may be cached by light peers (browser tabs) and shared by CID; private ones never leave full nodes. Default false. */
  public: z.boolean().optional(),
  /** Nodes not to place on: those that failed this client's previous attempt (a dead or refusing hop). */
  avoid: z.array(peerId).max(16).optional(),
})
export type PlacementRequest = z.infer<typeof placementRequest>

export const placementResponse = z.object({
  upload: signedUploadTicket,
  nodes: z.array(nodeEndpoint),
  /** True when the nodes are those of an unfinished upload of the same file: ask them what they have. */
  resumed: z.boolean().optional(),
})
export type PlacementResponse = z.infer<typeof placementResponse>

export const uploadStatus = z.object({
  ticketId: z.string(),
  replicas: z.number().int(),
  root: z.string().nullable(),
  holders: z.array(z.string()),
  complete: z.boolean(),
})
export type UploadStatus = z.infer<typeof uploadStatus>

export const providersRequest = z.object({
  root: cidString,
  consumer: address,
  region: z.string().max(32).optional(),
  /**
   * Only these providers (a download renewing its ticket keeps the providers it is using): the
   * ticket names those of them that still hold the root and are live.
   */
  providers: z.array(peerId).min(1).max(32).optional(),
  /**
   * For a root that is not public: the consumer's own signed `read` request (target: the root),
   * proving the caller is the consumer, by its key or a session key it granted.
   */
  auth: signedOwnerRequest.optional(),
  /** For a non-public root the consumer does not own: the owner's access grant. */
  grant: signedAccessGrant.optional(),
})
export type ProvidersRequest = z.infer<typeof providersRequest>

export const providersResponse = z.object({
  download: signedDownloadTicket,
  providers: z.array(
    nodeEndpoint.extend({
      kind: z.enum(['full', 'light']).default('full'),
      score: z.number(),
      throughputBps: z.number(),
      /** The operator's egress cap in bytes per second (0: none declared): no download from it is faster. */
      egressCapBps: z.number().nonnegative().default(0),
    }),
  ),
})
export type ProvidersResponse = z.infer<typeof providersResponse>

export const fileRecord = z.object({
  root: z.string(),
  name: z.string(),
  size: byteCount,
  owner: address,
  createdAt: unixSeconds,
  /** Replicas counted toward R. */
  holders: z.array(z.string()),
  /** Extra copies known to the meta node (not counted toward R; still served). */
  cached: z.array(z.string()).default([]),
  /** Light peers may cache it (see placementRequest.public). */
  public: z.boolean().default(false),
})
export type FileRecord = z.infer<typeof fileRecord>

/**
 * `POST /v1/uploads`: a placement and the owner's signature of it — an owner request of action
 * `place` whose `target` is keccak256 of the placement's canonical JSON, signed by the owner or a
 * session key it granted. Its name, size, replicas and public flag are the owner's word.
 */
export const signedPlacement = z.object({ placement: placementRequest, auth: signedOwnerRequest })
export type SignedPlacement = z.infer<typeof signedPlacement>

/**
 * Meta → resource node: copy a DAG from these sources (repair), then report it under the upload
 * ticket. `signature`: the meta node's `NodeStatement` of kind `replicate` for the target node's
 * peer id over keccak256 of the canonical JSON of `{ upload, download, sources }`.
 */
export const replicateOrder = z.object({
  upload: signedUploadTicket,
  download: signedDownloadTicket,
  sources: z.array(nodeEndpoint).min(1).max(16),
})
export type ReplicateOrder = z.infer<typeof replicateOrder>
export const replicateRequest = replicateOrder.extend({ signature })
export type ReplicateRequest = z.infer<typeof replicateRequest>

export const lsResponse = z.object({ files: z.array(fileRecord) })
export const statResponse = z.object({ file: fileRecord })
export const rmResponse = z.object({ removed: z.string() })
export const nodesResponse = z.object({ nodes: z.array(nodeInfo) })

export const denylistResponse = z.object({ roots: z.array(z.string()) })
