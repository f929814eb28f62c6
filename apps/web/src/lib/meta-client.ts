import { MetaClient as ControlClient } from '@konbini/browser-node/control'
import type { FileRecord, NodeInfo, RewardsResponse, SignedOwnerRequest, SignedSessionGrant } from '@konbini/protocol'

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
 * The portal's view of the one meta client (`@konbini/browser-node`'s, shared with the CLI and the
 * relay): fail-over between URLs on a network error, timeout or 5xx; a 4xx is the answer and
 * throws a `RemoteError` named as the meta node named it; none answering, `MetaUnavailableError`.
 * Answers are never cached (a server page shows the network as it is now).
 * @example const nodes = await createMetaClient({ urls: ['http://127.0.0.1:7070'] }).nodes()
 */
export function createMetaClient(init: MetaClientInit): MetaClient {
  const base = init.fetch ?? globalThis.fetch.bind(globalThis)
  const meta = new ControlClient({
    urls: init.urls,
    timeoutMs: init.timeoutMs ?? 3000,
    fetch: (input, request) => base(input, { ...request, cache: 'no-store' }),
  })
  return {
    nodes: async () => (await meta.get('nodes')).nodes,
    ls: async (signed) => (await meta.post('ls', signed)).files,
    rewards: (account) => meta.get('rewards', { account }),
    grant: async (signed) => {
      await meta.post('grant', signed)
    },
  }
}
