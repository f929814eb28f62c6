import { resolve } from 'node:path'
import { DEVNET_CHAIN_ID } from '@konbini/protocol'
import { z } from 'zod'
import { describeIssues, privateKey, readDevnetFile } from './lib/devnet.ts'
import { ConfigError } from './lib/errors.ts'

/** An unset variable and an empty one (`KONBINI_DEV_KEY=`) mean the same. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional())

const envSchema = z.object({
  /** One meta URL, or several separated by commas (tried in order). */
  KONBINI_META_URL: optional(z.string()),
  KONBINI_DEV_KEY: optional(privateKey),
  KONBINI_DEVNET_FILE: optional(z.string()),
  KONBINI_CHAIN_ID: optional(
    z
      .string()
      .regex(/^[1-9][0-9]*$/, 'must be a positive integer')
      .transform(Number),
  ),
})

export const DEFAULT_META_URL = 'http://127.0.0.1:7070'
export const DEFAULT_DEVNET_FILE = '../../.konbini/devnet.json'

/** Everything the portal's server side needs to know, read once per request. */
export interface WebEnv {
  metaUrls: string[]
  /** The dev user's key: server-only, never passed to a client component. */
  devKey: `0x${string}` | undefined
  chainId: number
  devnetFile: string
}

/**
 * Reads `process.env` (and, for what it leaves unset, `.konbini/devnet.json`) into a {@link WebEnv}.
 * Precedence: `KONBINI_META_URL` › devnet `metaUrls` › http://127.0.0.1:7070;
 * `KONBINI_DEV_KEY` › devnet `devKey` › none.
 * Throws a named error ({@link ConfigError}, `DevnetFileError`) with a sentence for the user.
 * @example const env = await readEnv()
 */
export async function readEnv(source: Record<string, string | undefined> = process.env, cwd = process.cwd()): Promise<WebEnv> {
  const parsed = envSchema.safeParse(source)
  if (!parsed.success) throw new ConfigError({ reason: describeIssues(parsed.error) })
  const env = parsed.data
  const devnetFile = resolve(cwd, env.KONBINI_DEVNET_FILE ?? DEFAULT_DEVNET_FILE)
  const envUrls = env.KONBINI_META_URL?.split(',')
    .map((u) => u.trim())
    .filter(Boolean)
  for (const url of envUrls ?? []) {
    if (!URL.canParse(url)) throw new ConfigError({ reason: `KONBINI_META_URL holds "${url}", which is not a URL` })
  }
  const devnet = envUrls?.length && env.KONBINI_DEV_KEY ? undefined : await readDevnetFile(devnetFile)
  return {
    metaUrls: envUrls?.length ? envUrls : (devnet?.metaUrls ?? [DEFAULT_META_URL]),
    devKey: (env.KONBINI_DEV_KEY ?? devnet?.devKey) as `0x${string}` | undefined,
    chainId: env.KONBINI_CHAIN_ID ?? DEVNET_CHAIN_ID,
    devnetFile,
  }
}
