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
 * What one upload sends: a single folder becomes its own root (its name is the file name and the top
 * segment is dropped from paths); a single file is sent as is; several items keep their paths.
 * @example uploadPlan([{ path: 'photos/a.jpg', file }]) // { name: 'photos', files: [{ path: 'a.jpg', file }] }
 */
export function uploadPlan(picked: PickedFile[]): { name: string; files: PickedFile[] } {
  const first = picked[0]
  if (!first) return { name: '', files: [] }
  const top = (p: string) => p.split('/')[0] ?? p
  const folder = top(first.path)
  const oneFolder = picked.every((f) => f.path.includes('/') && top(f.path) === folder)
  if (oneFolder) return { name: folder, files: picked.map((f) => ({ path: f.path.slice(folder.length + 1), file: f.file })) }
  if (picked.length === 1) return { name: first.file.name, files: [{ path: first.file.name, file: first.file }] }
  return { name: `${top(first.path)} and ${picked.length - 1} more`, files: picked }
}
