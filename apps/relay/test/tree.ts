import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { sha256File } from './files.ts'

/** A folder as sorted lines `path type sha256`, for comparing two trees exactly. */
export async function treeDigest(root: string, rel = ''): Promise<string[]> {
  const lines: string[] = []
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = rel ? `${rel}/${name}` : name
    const info = await stat(join(root, path))
    if (info.isDirectory()) lines.push(`${path}/ dir`, ...(await treeDigest(root, path)))
    else lines.push(`${path} file ${await sha256File(join(root, path))}`)
  }
  return lines
}
