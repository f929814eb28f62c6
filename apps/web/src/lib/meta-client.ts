import {
  errorBody,
  type FileRecord,
  InvalidMessageError,
  lsResponse,
  MetaUnavailableError,
  metaRoutes,
  type NodeInfo,
  nodesResponse,
  RemoteError,
  type RewardsResponse,
  rewardsResponse,
  type SignedOwnerRequest,
  type SignedSessionGrant,
} from '@konbini/protocol'
import type { z } from 'zod'

export interface MetaClientInit {
  /** Meta node base URLs, tried in order until one answers. */
  urls: readonly string[]
  timeoutMs?: number
  fetch?: typeof globalThis.fetch
}

/** The few meta-node calls the portal makes (its server side, and the wallet pages in the tab). */
export interface MetaClient {
  nodes(): Promise<NodeInfo[]>
  ls(signed: SignedOwnerRequest): Promise<FileRecord[]>
  /** `GET /v1/rewards/{account}`: settled cumulative earnings with their proof, per epoch, and pending. */
  rewards(account: string): Promise<RewardsResponse>
  /** `POST /v1/grants`: a wallet's signed grant to a session key; resolves once the meta node keeps it. */
  grant(signed: SignedSessionGrant): Promise<void>
}

/**
 * A meta-node client with fail-over: a network error, timeout or 5xx moves on to the next URL;
 * a 4xx is the answer and throws a {@link RemoteError} named as the meta node named it.
 * When no URL answers it throws `MetaUnavailableError`.
 * @example const nodes = await createMetaClient({ urls: ['http://127.0.0.1:7070'] }).nodes()
 */
export function createMetaClient(init: MetaClientInit): MetaClient {
  const doFetch = init.fetch ?? globalThis.fetch
  const timeoutMs = init.timeoutMs ?? 3000

  async function call<T extends z.ZodType>(path: string, schema: T, body?: unknown): Promise<z.infer<T>> {
    let lastRemote: RemoteError | undefined
    for (const base of init.urls) {
      let res: Response
      try {
        res = await doFetch(`${base.replace(/\/+$/, '')}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          cache: 'no-store',
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch {
        continue
      }
      const json: unknown = await res.json().catch(() => undefined)
      if (!res.ok) {
        const wire = errorBody.safeParse(json)
        const remote = wire.success
          ? new RemoteError(wire.data.error.name, wire.data.error.message, res.status)
          : new RemoteError('HttpError', `The meta node at ${base} answered HTTP ${res.status}.`, res.status)
        if (res.status < 500) throw remote
        lastRemote = remote
        continue
      }
      const parsed = schema.safeParse(json)
      if (!parsed.success) throw new InvalidMessageError({ reason: `the meta node at ${base} sent an unexpected ${path} answer` })
      return parsed.data
    }
    throw lastRemote ?? new MetaUnavailableError({ urls: init.urls })
  }

  return {
    nodes: async () => (await call(metaRoutes.nodes.path, nodesResponse)).nodes,
    ls: async (signed) => (await call(metaRoutes.ls.path, lsResponse, signed)).files,
    rewards: (account) => call(metaRoutes.rewards.path.replace('{account}', encodeURIComponent(account)), rewardsResponse),
    grant: async (signed) => {
      await call(metaRoutes.grant.path, metaRoutes.grant.response, signed)
    },
  }
}
