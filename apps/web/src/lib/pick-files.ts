/** A file chosen for upload with its path relative to what the user picked (`photos/2024/a.jpg`). */
export interface PickedFile {
  path: string
  file: File
}

/**
 * The files of an `<input type="file">`, with folder-relative paths when it had `webkitdirectory`.
 * @example filesFromInput(event.currentTarget.files)
 */
export function filesFromInput(list: FileList | null): PickedFile[] {
  return Array.from(list ?? [], (file) => ({ path: file.webkitRelativePath || file.name, file }))
}

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader()
  const all: FileSystemEntry[] = []
  // readEntries hands out a directory's entries in batches (about 100 in Chromium) until it returns none.
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all)
        all.push(...batch)
        next()
      }, reject)
    next()
  })
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))
    out.push({ path: entry.fullPath.replace(/^\/+/, ''), file })
  } else if (entry.isDirectory) {
    for (const child of await readAllEntries(entry as FileSystemDirectoryEntry)) await walk(child, out)
  }
}

/**
 * The files of a drop, walking dropped folders (`webkitGetAsEntry`) and keeping their relative paths.
 * Call it synchronously in the `drop` handler: the items are gone after the handler returns.
 * @example const picked = await filesFromDrop(event.dataTransfer)
 */
export function filesFromDrop(data: DataTransfer): Promise<PickedFile[]> {
  const items = Array.from(data.items).filter((i) => i.kind === 'file')
  const entries = items.map((i) => i.webkitGetAsEntry?.() ?? null)
  if (entries.length === 0 || entries.some((e) => e === null)) return Promise.resolve(filesFromInput(data.files))
  return (async () => {
    const out: PickedFile[] = []
    for (const entry of entries) if (entry) await walk(entry, out)
    return out
  })()
}

/**
 * What one upload sends. The client's root is the last entry its importer yields, so every path must
 * sit under one top entry: a single folder keeps its own paths (its name is the upload's name); a
 * single file is sent as is; several loose items are wrapped in one folder named after the upload.
 * @example uploadPlan([{ path: 'photos/a.jpg', file }]) // { name: 'photos', files: [{ path: 'photos/a.jpg', file }] }
 */
export function uploadPlan(picked: PickedFile[]): { name: string; files: PickedFile[] } {
  const first = picked[0]
  if (!first) return { name: '', files: [] }
  const top = (p: string) => p.split('/')[0] ?? p
  const folder = top(first.path)
  if (picked.every((f) => f.path.includes('/') && top(f.path) === folder)) return { name: folder, files: picked }
  if (picked.length === 1) return { name: first.file.name, files: [{ path: first.file.name, file: first.file }] }
  const name = `${picked.length} items ${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}`
  return { name, files: picked.map((f) => ({ path: `${name}/${f.path}`, file: f.file })) }
}
