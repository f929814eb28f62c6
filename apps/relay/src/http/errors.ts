import { BaseError } from '@konbini/protocol'

/** Too many open connections, from the caller's address or in all: sent before the request is even read. */
export class TooManyConnectionsError extends BaseError {
  override name = 'TooManyConnectionsError' as const
  override readonly status = 503
  constructor({ scope }: { scope: 'address' | 'total' }) {
    super(
      scope === 'address'
        ? 'Too many open connections from your address; close some (or reuse them) and retry.'
        : 'This relay has too many open connections right now; retry in a moment.',
    )
  }
}
