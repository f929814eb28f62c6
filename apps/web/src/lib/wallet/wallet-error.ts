import { errorSentence } from '../shown-error.ts'

/** Sentences for the settlement contract's refusals, by error name. */
const contractErrors: Record<string, string> = {
  NothingToClaim: 'There is nothing to claim: everything settled so far is already claimed.',
  WrongProof: "The chain refused the proof: the meta node's rewards are not the ones on chain yet; try again after the next settlement.",
}

interface Walkable {
  name?: string
  shortMessage?: string
  code?: number
  data?: { errorName?: string }
  walk?: (fn: (err: unknown) => boolean) => unknown
}

/**
 * One sentence for a wallet or chain failure: the user declined, the contract refused (by its
 * error's name), or viem's short message; never a stack trace or a request dump.
 * @example setError(walletErrorSentence(err))
 */
export function walletErrorSentence(err: unknown, fallback = 'The wallet request failed.'): string {
  const e = err as Walkable | undefined
  const found = (name: string) => (typeof e?.walk === 'function' ? (e.walk((x) => (x as Walkable).name === name) as Walkable | null) : null)
  if (found('UserRejectedRequestError') || e?.code === 4001) return 'You declined the request in your wallet.'
  const reverted = found('ContractFunctionRevertedError')
  const errorName = reverted?.data?.errorName
  if (errorName) return contractErrors[errorName] ?? `The chain refused the transaction (${errorName}).`
  if (typeof e?.shortMessage === 'string' && e.shortMessage) {
    const first = e.shortMessage.split('\n')[0]?.trim() ?? ''
    return /[.!?]$/.test(first) ? first : `${first}.`
  }
  return errorSentence(err, fallback)
}
