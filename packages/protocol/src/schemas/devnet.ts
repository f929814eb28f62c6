import { z } from 'zod'
import { address } from './common.ts'

/** A 0x-prefixed 32-byte secp256k1 private key (the devnet's dev key). */
export const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key')

/** One resource node of a devnet, as `konbini devnet` lists it. */
export const devnetNode = z.object({
  peerId: z.string(),
  multiaddrs: z.array(z.string()),
  httpUrl: z.string(),
  pid: z.number().int(),
})

/** The deployed Konbini contracts' addresses. */
export const chainContracts = z.object({ token: address, registry: address, credit: address, settlement: address })
export type ChainContracts = z.infer<typeof chainContracts>

/** Where the devnet's chain is and its contracts live (any EVM chain: an RPC URL and addresses). */
export const devnetChain = z.object({
  rpcUrl: z.url(),
  chainId: z.number().int().positive(),
  contracts: chainContracts,
})

/**
 * What `konbini devnet` writes to `.konbini/devnet.json`, read by the CLI, the portal and the
 * tests: the one schema of that file. Unknown fields are kept.
 */
export const devnetFile = z.looseObject({
  metaUrls: z.array(z.url()).min(1),
  /** The meta nodes' signing addresses (tickets from them are trusted). */
  metaAddresses: z.array(address).optional(),
  webUrl: z.string().optional(),
  /** The dev account's key: a devnet convenience, never sent to a page by a real deployment. */
  devKey: privateKey.optional(),
  chainId: z.number().int().positive().optional(),
  nodes: z.array(devnetNode).default([]),
  chain: devnetChain.optional(),
})
export type DevnetFile = z.infer<typeof devnetFile>
