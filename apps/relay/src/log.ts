import pino, { type Logger } from 'pino'

/** The process logger: structured JSON on stderr, one child per component. */
export function createLogger(level: string, name = 'konbini'): Logger {
  return pino({ name, level }, pino.destination(2))
}
