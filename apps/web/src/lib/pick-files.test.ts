import { describe, expect, test } from 'vitest'
import { uploadPlan } from './pick-files.ts'

const file = (name: string) => new File(['x'], name)

describe('uploadPlan', () => {
  test('default: a single folder keeps its paths and gives its name', () => {
    const a = file('a.txt')
    const b = file('b.txt')
    const plan = uploadPlan([
      { path: 'photos/a.txt', file: a },
      { path: 'photos/sub/b.txt', file: b },
    ])
    expect(plan).toEqual({
      name: 'photos',
      files: [
        { path: 'photos/a.txt', file: a },
        { path: 'photos/sub/b.txt', file: b },
      ],
    })
  })

  test('behavior: a single file is sent under its own name', () => {
    const a = file('clip.mp4')
    expect(uploadPlan([{ path: 'clip.mp4', file: a }])).toEqual({ name: 'clip.mp4', files: [{ path: 'clip.mp4', file: a }] })
  })

  test('behavior: loose items are wrapped in one folder so the upload has one root', () => {
    const plan = uploadPlan([
      { path: 'a.txt', file: file('a.txt') },
      { path: 'photos/b.jpg', file: file('b.jpg') },
    ])
    expect(plan.name).toMatch(/^2 items /)
    expect(plan.files.map((f) => f.path)).toEqual([`${plan.name}/a.txt`, `${plan.name}/photos/b.jpg`])
  })

  test('error: nothing picked gives no files', () => {
    expect(uploadPlan([])).toEqual({ name: '', files: [] })
  })
})
