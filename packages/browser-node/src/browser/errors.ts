import { BaseError } from '@konbini/protocol'

/** A donor tab refused a block because it is paused (battery, data-saver, hidden tab). */
export class DonorPausedError extends BaseError {
  override name = 'DonorPausedError' as const
  constructor({ reason }: { reason: string }) {
    super(`This peer is paused (${reason}); ask another provider.`)
  }
}

/** A donor tab refused a block because it served its bytes for the last 24 hours. */
export class DonorCapReachedError extends BaseError {
  override name = 'DonorCapReachedError' as const
  constructor({ cap }: { cap: number }) {
    super(`This peer served its cap of ${cap} bytes in the last 24 hours; ask another provider.`)
  }
}
