import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** Writes `size` random bytes to `path` in 4 MiB pieces (never the whole file in memory). */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const handle = await open(path, 'w')
  try {
    for (let left = size; left > 0; left -= 4 << 20) await handle.write(randomBytes(Math.min(left, 4 << 20)))
  } finally {
    await handle.close()
  }
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** A small tree: nested folders, an empty folder, an empty file, a multi-chunk file, unicode and spaces. */
export async function writeSampleTree(root: string): Promise<void> {
  await mkdir(join(root, 'docs', 'deep', 'er'), { recursive: true })
  await mkdir(join(root, 'empty'), { recursive: true })
  await writeFile(join(root, 'docs', 'deep', 'er', 'note.txt'), 'hello konbini\n')
  await writeFile(join(root, 'name with space.txt'), 'spaces are fine\n')
  await writeFile(join(root, 'コンビニ.txt'), 'unicode names are fine\n')
  await writeFile(join(root, 'zero'), '')
  await writeRandomFile(join(root, 'media', 'clip.bin'), 3 * 1024 * 1024 + 12345)
}
