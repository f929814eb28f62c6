import { BaseError } from '@konbini/protocol'

export class ChainCallError extends BaseError {
  override name = 'ChainCallError' as const
  constructor({ reason, details }: { reason: string; details: string }) {
    super(`The chain call did not complete: ${reason}`, { details })
  }
}

/**
 * Runs a chain command so that a failure reads as one sentence: Konbini's named errors pass
 * through, and viem's (whose message spans many lines: request, arguments, version) become a
 * {@link ChainCallError} with the first line of their short message.
 */
export async function inOneSentence<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    const short = (err as { shortMessage?: unknown } | undefined)?.shortMessage
    if (err instanceof BaseError || typeof short !== 'string') throw err
    const unreachable = (err as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk?.((e) => (e as Error).name === 'HttpRequestError') as
      | { url?: string }
      | undefined
    const reason = unreachable ? `no answer from the chain's RPC at ${unreachable.url ?? 'its URL'}.` : short.split('\n')[0]?.trim() || 'the chain refused it.'
    throw new ChainCallError({ reason: /[.!?]$/.test(reason) ? reason : `${reason}.`, details: (err as Error).message })
  }
}
