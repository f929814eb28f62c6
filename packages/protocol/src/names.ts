import { InvalidNameError } from './errors.ts'
import { MAX_NAME_BYTES } from './ids.ts'

/**
 * Checks one path segment (a file or folder entry name) and returns it unchanged.
 * Refuses what could escape a target folder or corrupt a terminal.
 */
export function assertSafeName(name: string): string {
  if (name.length === 0) throw new InvalidNameError({ name, reason: 'it is empty' })
  if (name === '.' || name === '..') throw new InvalidNameError({ name, reason: 'it points outside its folder' })
  if (/[/\\]/.test(name)) throw new InvalidNameError({ name, reason: 'it contains a path separator' })
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw new InvalidNameError({ name, reason: 'it contains control characters' })
  // text that reorders or breaks what a listing shows: `evil\u202Etxt.exe` reads as `evilexe.txt`
  if (/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(name)) throw new InvalidNameError({ name, reason: 'it contains bidirectional controls' })
  if (/[\u2028\u2029]/.test(name)) throw new InvalidNameError({ name, reason: 'it contains a line separator' })
  if (new TextEncoder().encode(name).byteLength > MAX_NAME_BYTES) throw new InvalidNameError({ name, reason: `it is longer than ${MAX_NAME_BYTES} bytes` })
  return name
}

/** Checks every segment of a relative path such as `photos/2026/a.jpg`. */
export function assertSafeRelativePath(path: string): string {
  for (const segment of path.split('/')) assertSafeName(segment)
  return path
}
