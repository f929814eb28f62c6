import { describe, expect, test } from 'vitest'
import { MAX_NAME_BYTES } from './ids.ts'
import { assertSafeName, assertSafeRelativePath } from './names.ts'

/** Catches what `fn` throws so a test can assert its name and message. */
function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

const good = [
  'photo.jpg',
  'README',
  '.hidden',
  '...',
  'a..b',
  'with space and (parens) [1].txt',
  '日本語のファイル名.txt',
  'café — naïve.md',
  'emoji 🎉🍙.png',
  'ｺﾝﾋﾞﾆ',
  'x'.repeat(MAX_NAME_BYTES),
  'あ'.repeat(Math.floor(MAX_NAME_BYTES / 3)),
]

const bad: Array<[string, string]> = [
  ['', 'empty'],
  ['.', 'the folder itself'],
  ['..', 'the parent folder'],
  ['../x', 'a parent path'],
  ['a/b', 'a slash'],
  ['/etc', 'an absolute path'],
  ['a\\b', 'a backslash'],
  ['..\\..\\x', 'a Windows parent path'],
  ['nul\u0000byte', 'a NUL byte'],
  ['line\nbreak', 'a newline'],
  ['carriage\rreturn', 'a carriage return'],
  ['tab\there', 'a tab'],
  ['\u001b[31mred', 'an ANSI escape'],
  ['bell\u0007', 'a bell'],
  ['del\u007f', 'DEL'],
  ['next\u0085line', 'a C1 next-line'],
  ['\u009b31mred', 'a C1 escape (CSI)'],
  ['evil\u202etxt.exe', 'a right-to-left override (shows as evilexe.txt)'],
  ['\u2066isolate\u2069', 'bidirectional isolates'],
  ['mark\u200f', 'a right-to-left mark'],
  ['line\u2028separator', 'a Unicode line separator'],
  ['paragraph\u2029', 'a Unicode paragraph separator'],
  ['x'.repeat(MAX_NAME_BYTES + 1), 'one byte too long'],
  ['あ'.repeat(Math.floor(MAX_NAME_BYTES / 3) + 1), 'too long in UTF-8 bytes though short in characters'],
]

describe('assertSafeName', () => {
  test('default', () => {
    for (const name of good) expect(assertSafeName(name)).toBe(name)
  })

  test.each(bad)('error: refuses %j (%s) with InvalidNameError', (name) => {
    const err = thrown(() => assertSafeName(name))
    expect(err.name).toBe('InvalidNameError')
    // the message is safe to print: control characters are escaped, not echoed raw
    expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/)
  })

  test('behavior: a refused name is echoed with its control characters escaped', () => {
    expect(thrown(() => assertSafeName('\u001b[31mred')).message).toContain('\\x1b[31mred')
  })
})

describe('assertSafeRelativePath', () => {
  test('default', () => {
    expect(assertSafeRelativePath('photos/2026/夏/a.jpg')).toBe('photos/2026/夏/a.jpg')
  })

  test.each(['a/../b', '../a', '/abs', 'a//b', 'a/b/', 'a/\u0000/b', './a'])('error: refuses %j with InvalidNameError', (path) => {
    expect(thrown(() => assertSafeRelativePath(path)).name).toBe('InvalidNameError')
  })
})
