import type { CID } from 'multiformats/cid'
import type { BlockSource } from './block-source.ts'
import type { Attempt, Provider } from './provider.ts'

/** One block the reader asked for, until it is verified or fails. */
export interface Want {
  readonly cid: CID
  readonly key: string
  readonly result: PromiseWithResolvers<Uint8Array>
  /** Attempts in flight (sent, not answered, not cancelled). */
  readonly attempts: PoolAttempt[]
  /** Providers that failed this block (DontHave, error): not asked again. */
  readonly excluded: Set<Provider>
  lastError: Error | undefined
  verifying: boolean
  /** Its place in the reading order since the pool last went idle. */
  readonly seq: number
}

/** One want sent to one provider. */
export interface PoolAttempt extends Attempt {
  readonly want: Want
  /** The session it was sent on (a provider's session changes when the ticket is renewed). */
  session?: Promise<BlockSource>
}
