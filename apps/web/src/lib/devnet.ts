import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { DevnetFileError } from './errors.ts'

export const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key')

/** One line naming each bad field, e.g. `devKey must be a 0x-prefixed … key`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'the value'} ${i.message}`).join('; ')
}

/** What `konbini devnet` writes to `.konbini/devnet.json`; unknown fields are kept. */
export const devnetFile = z.looseObject({
  metaUrls: z.array(z.url()).min(1),
  devKey: privateKey.optional(),
  webUrl: z.string().optional(),
  nodes: z.array(z.unknown()).default([]),
})
export type DevnetFile = z.infer<typeof devnetFile>

/**
 * Reads the devnet file, or returns `undefined` when there is none (the devnet is not running).
 * Throws {@link DevnetFileError} when the file exists but cannot be used.
 * @example const devnet = await readDevnetFile('/repo/.konbini/devnet.json')
 */
export async function readDevnetFile(path: string): Promise<DevnetFile | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DevnetFileError({ path, reason: (err as Error).message })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new DevnetFileError({ path, reason: 'it is not valid JSON' })
  }
  const parsed = devnetFile.safeParse(json)
  if (!parsed.success) throw new DevnetFileError({ path, reason: describeIssues(parsed.error) })
  return parsed.data
}
