import { TicketForgedError } from '@konbini/protocol'

/** Decodes the `x-konbini-ticket` header (base64url JSON). */
export function decodeTicketHeader(header: string | string[] | undefined): unknown {
  if (typeof header !== 'string' || header.length === 0) return undefined
  try {
    return JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
  } catch {
    throw new TicketForgedError({ ticketId: 'unknown' })
  }
}
