import { z } from 'zod'
import { errorBody } from './schemas/common.ts'
import {
  lsResponse,
  nodesResponse,
  signedPlacement,
  placementResponse,
  providersRequest,
  providersResponse,
  denylistResponse,
  rmResponse,
  signedOwnerRequest,
  statResponse,
  uploadStatus,
} from './schemas/files.ts'
import {
  cosignRequest,
  cosignResponse,
  slashCosignRequest,
  epochResponse,
  grantOfResponse,
  receiptsRequest,
  receiptsResponse,
  rewardsResponse,
  signedSessionGrant,
  spendResponse,
} from './pot.ts'
import { heartbeatResponse, signedHeartbeat, signedNodeLeave, signedStorageReport } from './schemas/nodes.ts'
import { signedTransferReport, transferReportResponse } from './transfer-report.ts'

/** One control-plane route: the single source for validation and for the OpenAPI document. */
export interface Route {
  method: 'get' | 'post'
  path: string
  summary: string
  body?: z.ZodType
  response: z.ZodType
}

const ok = z.object({ ok: z.literal(true) })

/** Every meta-node route. */
export const metaRoutes = {
  placement: {
    method: 'post',
    path: '/v1/uploads',
    summary: 'Place an upload on R nodes (owner-signed); returns a signed upload ticket.',
    body: signedPlacement,
    response: placementResponse,
  },
  uploadStatus: {
    method: 'get',
    path: '/v1/uploads/{ticketId}',
    summary: 'Which nodes reported the upload durable (waits up to ?wait= seconds for completion).',
    response: uploadStatus,
  },
  providers: {
    method: 'post',
    path: '/v1/providers',
    summary: 'Ranked providers for a CID in a signed download ticket.',
    body: providersRequest,
    response: providersResponse,
  },
  heartbeat: {
    method: 'post',
    path: '/v1/nodes/heartbeat',
    summary: 'A resource node registers or refreshes itself (operator-signed).',
    body: signedHeartbeat,
    response: heartbeatResponse,
  },
  leave: {
    method: 'post',
    path: '/v1/nodes/leave',
    summary: 'A light peer stops donating: forget its cached holdings now (operator-signed).',
    body: signedNodeLeave,
    response: ok,
  },
  storageReport: {
    method: 'post',
    path: '/v1/reports/storage',
    summary: 'A resource node reports an upload durable (operator-signed).',
    body: signedStorageReport,
    response: ok,
  },
  transferReport: {
    method: 'post',
    path: '/v1/reports/transfer',
    summary: "A consumer reports how each provider of its ticket performed (consumer-signed, once per ticket; a paid ticket's latest receipts ride along).",
    body: signedTransferReport,
    response: transferReportResponse,
  },
  nodes: { method: 'get', path: '/v1/nodes', summary: 'Known nodes with their measured performance.', response: nodesResponse },
  ls: { method: 'post', path: '/v1/files/ls', summary: "List the signer's files (owner-signed).", body: signedOwnerRequest, response: lsResponse },
  stat: { method: 'post', path: '/v1/files/stat', summary: 'A file and its holders (owner-signed).', body: signedOwnerRequest, response: statResponse },
  rm: { method: 'post', path: '/v1/files/rm', summary: "Drop the owner's pin (owner-signed).", body: signedOwnerRequest, response: rmResponse },
  denylist: { method: 'get', path: '/v1/denylist', summary: 'Roots light peers must not cache or serve.', response: denylistResponse },
  deny: {
    method: 'post',
    path: '/v1/denylist',
    summary: 'Add (`deny`) or remove (`allow`) a root on the denylist (signed by a meta admin).',
    body: signedOwnerRequest,
    response: denylistResponse,
  },
  receipts: {
    method: 'post',
    path: '/v1/receipts',
    summary: 'Providers hand in the traffic receipts their consumers signed (self-authenticating: anyone may post them).',
    body: receiptsRequest,
    response: receiptsResponse,
  },
  grant: {
    method: 'post',
    path: '/v1/grants',
    summary: "A wallet authorizes a session key (a donor tab's, a client's): it earns for the wallet and spends the wallet's credit.",
    body: signedSessionGrant,
    response: ok,
  },
  grantOf: {
    method: 'get',
    path: '/v1/grants/{sessionKey}',
    summary: 'The wallet that authorized a session key, with its signed grant (null when none is valid now).',
    response: grantOfResponse,
  },
  slashCosign: {
    method: 'post',
    path: '/v1/slashes/cosign',
    summary: 'Co-sign a slash of a node that failed its storage audits (the co-signer audits it first; meta nodes only).',
    body: slashCosignRequest,
    response: cosignResponse,
  },
  cosign: {
    method: 'post',
    path: '/v1/epochs/cosign',
    summary: 'Co-sign an epoch report: signed only when the archive and the chain give exactly its roots and totals.',
    body: cosignRequest,
    response: cosignResponse,
  },
  epoch: { method: 'get', path: '/v1/epoch', summary: 'The open epoch and the last report settled on chain.', response: epochResponse },
  rewards: {
    method: 'get',
    path: '/v1/rewards/{account}',
    summary: "An account's cumulative rewards in the settled reward tree, with the Merkle proof to claim them.",
    response: rewardsResponse,
  },
  spent: {
    method: 'get',
    path: '/v1/credit/{account}',
    summary: "An account's cumulative spend in the settled spend tree, with the Merkle proof to withdraw unspent credit.",
    response: spendResponse,
  },
} as const satisfies Record<string, Route>

/** Builds the OpenAPI 3.1 document from the route table's zod schemas. */
export function openApiDocument(routes: Record<string, Route> = metaRoutes) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [operationId, route] of Object.entries(routes)) {
    const errors = { description: 'A named error', content: { 'application/json': { schema: z.toJSONSchema(errorBody) } } }
    paths[route.path] ??= {}
    ;(paths[route.path] as Record<string, unknown>)[route.method] = {
      operationId,
      summary: route.summary,
      ...(route.body && {
        requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(route.body, { io: 'input' }) } } },
      }),
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: z.toJSONSchema(route.response, { unrepresentable: 'any' }) } } },
        '4XX': errors,
        '5XX': errors,
      },
    }
  }
  return { openapi: '3.1.0', info: { title: 'Konbini meta node', version: '1.0.0' }, paths }
}
