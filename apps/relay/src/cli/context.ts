import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createKonbiniClient, type KonbiniClient, MetaClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import type { Libp2p } from '@libp2p/interface'
import { generatePrivateKey, type PrivateKeyAccount } from 'viem/accounts'
import { nativeReceiptAccount } from '../pot/native-receipt-signing.ts'

import { type DevnetFile, devnetFile, privateKey } from '@konbini/protocol'

export type { DevnetFile }

export interface GlobalFlags {
  json: boolean
  meta: string | undefined
  key: string | undefined
}

/** Finds `.konbini/devnet.json` in the current folder or above. */
export async function findDevnet(from = process.cwd()): Promise<DevnetFile | undefined> {
  let dir = resolve(from)
  for (;;) {
    const file = join(dir, '.konbini', 'devnet.json')
    if (existsSync(file)) return devnetFile.parse(JSON.parse(await readFile(file, 'utf8')))
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** The user's key: --key or KONBINI_KEY, else the devnet's dev key, else one kept in the config dir. */
async function loadClientKey(flags: GlobalFlags, devnet: DevnetFile | undefined): Promise<`0x${string}`> {
  const explicit = flags.key ?? process.env.KONBINI_KEY
  if (explicit) return privateKey.parse(explicit) as `0x${string}`
  if (devnet?.devKey && flags.meta === undefined) return devnet.devKey as `0x${string}`
  const dir = join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'konbini')
  const file = join(dir, 'key')
  const stored = await readFile(file, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  )
  if (stored) return stored as `0x${string}`
  const key = generatePrivateKey()
  await mkdir(dir, { recursive: true })
  await writeFile(file, `${key}\n`, { mode: 0o600 })
  return key
}

/** The meta URLs, key and chain id from flags, the environment and a devnet file. */
async function resolveSetup(flags: GlobalFlags): Promise<{ metaUrls: string[]; account: PrivateKeyAccount; devnet: DevnetFile | undefined }> {
  const devnet = await findDevnet()
  const metaUrls = (flags.meta ?? process.env.KONBINI_META_URLS)?.split(',').filter(Boolean) ?? devnet?.metaUrls
  if (!metaUrls?.length) throw new Error('No meta node configured: start the devnet (npm start) or pass --meta <url>.')
  return { metaUrls, account: nativeReceiptAccount(await loadClientKey(flags, devnet)), devnet }
}

/** A control-plane client and the user's key, for commands that move no data (no libp2p). */
export async function openMeta(flags: GlobalFlags): Promise<{ meta: MetaClient; account: PrivateKeyAccount; chainId: number | undefined }> {
  const { metaUrls, account, devnet } = await resolveSetup(flags)
  return { meta: new MetaClient({ urls: metaUrls }), account, chainId: devnet?.chainId }
}

/** Builds a client from flags, the environment and a devnet file; the caller stops `libp2p`. */
export async function openClient(flags: GlobalFlags): Promise<{ client: KonbiniClient; libp2p: Libp2p }> {
  const { metaUrls, account, devnet } = await resolveSetup(flags)
  const libp2p = await createNodeClientLibp2p()
  return { client: createKonbiniClient({ metaUrls, account, libp2p, ...(devnet?.chainId !== undefined && { chainId: devnet.chainId }) }), libp2p }
}
