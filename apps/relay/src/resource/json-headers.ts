import { InvalidRequestError, RECEIPT_HEADER, TicketForgedError } from '@konbini/protocol'

function decodeBase64urlJson(header: string): unknown {
  return JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
}

/** Decodes the `x-konbini-ticket` header (base64url JSON); undefined when absent. */
export function decodeTicketHeader(header: string | string[] | undefined): unknown {
  if (typeof header !== 'string' || header.length === 0) return undefined
  try {
    return decodeBase64urlJson(header)
  } catch {
    throw new TicketForgedError({ ticketId: 'unknown' })
  }
}

/** Decodes the `x-konbini-receipt` header of a want request (base64url JSON); undefined when absent. */
export function decodeReceiptHeader(header: string | string[] | undefined): unknown {
  if (header === undefined) return undefined
  if (typeof header !== 'string' || header.length === 0) throw new InvalidRequestError({ reason: `one ${RECEIPT_HEADER} header, base64url JSON, is expected` })
  try {
    return decodeBase64urlJson(header)
  } catch {
    throw new InvalidRequestError({ reason: `the ${RECEIPT_HEADER} header is not base64url JSON` })
  }
}
