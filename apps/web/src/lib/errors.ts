import { BaseError } from '@konbini/protocol'

/** The portal's environment holds a value that cannot be used. */
export class ConfigError extends BaseError {
  override name = 'ConfigError' as const
  constructor({ reason }: { reason: string }) {
    super(`The portal's configuration is invalid: ${reason}.`)
  }
}

/** `.konbini/devnet.json` exists but is not what the devnet writes. */
export class DevnetFileError extends BaseError {
  override name = 'DevnetFileError' as const
  constructor({ path, reason }: { path: string; reason: string }) {
    super(`${path} is not a usable devnet file: ${reason}.`)
  }
}
