import { createReadStream } from 'node:fs'
import { lstat, readdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { assertSafeName, CHUNK_SIZE } from '@konbini/protocol'
import type { ImportCandidate } from 'ipfs-unixfs-importer'
import { rechunk } from '../import.ts'

export interface FsSource {
  name: string
  size: number
  kind: 'file' | 'directory'
  candidates: () => AsyncGenerator<ImportCandidate>
}

/**
 * Describes a file or a folder on disk for import: a file is imported alone (its CID is the
 * file's), a folder as one directory (empty folders kept, symlinks skipped). Names are checked first,
 * so nothing is sent when one is unsafe.
 */
export async function fsSource(path: string): Promise<FsSource> {
  const info = await lstat(path)
  const name = assertSafeName(basename(path))
  if (info.isFile()) {
    return {
      name,
      size: info.size,
      kind: 'file',
      candidates: async function* () {
        yield { path: name, content: readChunks(path) }
      },
    }
  }
  if (!info.isDirectory()) throw new TypeError(`${path} is neither a file nor a folder`)
  const entries: Array<{ rel: string; abs: string; dir: boolean }> = []
  let size = 0
  const walk = async (abs: string, rel: string): Promise<void> => {
    const children = (await readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))
    if (children.length === 0) entries.push({ rel, abs, dir: true })
    for (const child of children) {
      assertSafeName(child.name)
      const childAbs = join(abs, child.name)
      const childRel = `${rel}/${child.name}`
      if (child.isDirectory()) await walk(childAbs, childRel)
      else if (child.isFile()) {
        size += (await lstat(childAbs)).size
        entries.push({ rel: childRel, abs: childAbs, dir: false })
      }
    }
  }
  await walk(path, name)
  return {
    name,
    size,
    kind: 'directory',
    candidates: async function* () {
      for (const e of entries) yield e.dir ? { path: e.rel } : { path: e.rel, content: readChunks(e.abs) }
    },
  }
}

function readChunks(path: string): AsyncIterable<Uint8Array> {
  return rechunk(createReadStream(path, { highWaterMark: CHUNK_SIZE }), CHUNK_SIZE)
}
