import { DEVNET_CHAIN_ID, type FileRecord, type NodeInfo, parseCid } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import type { LocalAccount } from 'viem/accounts'
import { type Download, type OpenOptions, openDownload } from './download.ts'
import { MetaClient } from './meta-client.ts'
import { signOwnerRequest } from './owner.ts'
import { type PutOptions, type PutResult, type PutSource, put } from './upload.ts'

export interface KonbiniClientInit {
  metaUrls: readonly string[]
  /** The user's key: owns uploads, signs owner requests and download tickets' consumer field. */
  account: LocalAccount
  /** A started libp2p node able to dial resource nodes (TCP in Node, WebSockets in browsers). */
  libp2p: Libp2p
  chainId?: number
  region?: string
}

/**
 * The Konbini client: upload, download, and the owner's file operations.
 *
 * @example
 * const client = createKonbiniClient({ metaUrls, account, libp2p })
 * const { root, holders } = await client.put([{ path: 'a.txt', content }], { name: 'a.txt', size })
 */
export function createKonbiniClient(init: KonbiniClientInit) {
  const meta = new MetaClient({ urls: init.metaUrls })
  const chainId = init.chainId ?? DEVNET_CHAIN_ID
  const region = init.region
  return {
    meta,
    address: init.account.address,
    put(source: PutSource, options: Omit<PutOptions, 'owner' | 'signer'>): Promise<PutResult> {
      return put(meta, source, { ...(region !== undefined && { region }), signer: init.account, chainId, ...options, owner: init.account.address })
    },
    open(root: string, options: Omit<OpenOptions, 'consumer' | 'region'> = {}): Promise<Download> {
      const cid = parseCid(root).toString()
      return openDownload(meta, init.libp2p, cid, {
        consumer: init.account.address,
        signer: init.account,
        chainId,
        ...(region !== undefined && { region }),
        ...options,
      })
    },
    async ls(): Promise<FileRecord[]> {
      return (await meta.post('ls', await signOwnerRequest(init.account, 'ls', '', chainId))).files
    },
    async stat(root: string): Promise<FileRecord> {
      return (await meta.post('stat', await signOwnerRequest(init.account, 'stat', parseCid(root).toString(), chainId))).file
    },
    async rm(root: string): Promise<string> {
      return (await meta.post('rm', await signOwnerRequest(init.account, 'rm', parseCid(root).toString(), chainId))).removed
    },
    async nodes(): Promise<NodeInfo[]> {
      return (await meta.get('nodes')).nodes
    },
  }
}

export type KonbiniClient = ReturnType<typeof createKonbiniClient>
