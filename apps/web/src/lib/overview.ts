import type { FileRecord, NodeInfo } from '@konbini/protocol'
import { privateKeyToAccount } from 'viem/accounts'
import type { WebEnv } from '../env.ts'
import { signOwnerRequest } from '@konbini/browser-node/control'
import { createMetaClient } from './meta-client.ts'

/** A wire-shaped error the page can show as a sentence. */
export interface ShownError {
  name: string
  message: string
}

/** One section of the page: its data, why it failed, or why it was not asked for. */
export type Section<T> = { state: 'ok'; data: T } | { state: 'error'; error: ShownError } | { state: 'skipped'; reason: string }

export interface Overview {
  metaUrls: string[]
  owner: string | undefined
  nodes: Section<NodeInfo[]>
  files: Section<FileRecord[]>
}

/** Keeps a thrown value's name and message, never its stack. */
export function toShownError(err: unknown): ShownError {
  if (err instanceof Error) return { name: err.name, message: err.message }
  return { name: 'UnknownError', message: 'Something unexpected went wrong.' }
}

async function section<T>(work: () => Promise<T>): Promise<Section<T>> {
  try {
    return { state: 'ok', data: await work() }
  } catch (err) {
    return { state: 'error', error: toShownError(err) }
  }
}

/**
 * Fetches what the home page shows — the node registry and the dev user's files — in parallel.
 * Never throws: each failure becomes that section's `error`.
 * @example const overview = await loadOverview(await readEnv())
 */
export async function loadOverview(env: WebEnv, fetchImpl?: typeof globalThis.fetch): Promise<Overview> {
  const client = createMetaClient({ urls: env.metaUrls, ...(fetchImpl && { fetch: fetchImpl }) })
  const key = env.devKey
  const [nodes, files] = await Promise.all([
    section(() => client.nodes()),
    key
      ? section(async () => client.ls(await signOwnerRequest(privateKeyToAccount(key), 'ls', '', env.chainId)))
      : Promise.resolve<Section<FileRecord[]>>({
          state: 'skipped',
          reason: `No dev key: set KONBINI_DEV_KEY, or start the devnet with \`npm start\` so ${env.devnetFile} exists.`,
        }),
  ])
  return { metaUrls: env.metaUrls, owner: key && privateKeyToAccount(key).address, nodes, files }
}
