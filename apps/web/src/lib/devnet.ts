import { readFile } from 'node:fs/promises'
import { type DevnetFile, devnetFile } from '@konbini/protocol'
import type { z } from 'zod'
import { DevnetFileError } from './errors.ts'

export { type DevnetFile, privateKey } from '@konbini/protocol'

/** One line naming each bad field, e.g. `devKey must be a 0x-prefixed … key`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'the value'} ${i.message}`).join('; ')
}

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
