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
    expect(err.message).not.toMatch(/[\u0000-\u001f\u007f]/)
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
