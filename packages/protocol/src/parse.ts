import type { z } from 'zod'
import { InvalidRequestError } from './errors.ts'

/** Validates a value with a zod schema; failures become InvalidRequestError with the first issue. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
    throw new InvalidRequestError({ reason: `${where}${issue?.message ?? 'does not match the schema'}` })
  }
  return result.data
}
