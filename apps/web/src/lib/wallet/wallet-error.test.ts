import { settlementAbi } from '@konbini/contracts'
import { BaseError, ContractFunctionExecutionError, ContractFunctionRevertedError, encodeErrorResult, UserRejectedRequestError } from 'viem'
import { describe, expect, test } from 'vitest'
import { walletErrorSentence } from './wallet-error.ts'

const account = '0x0000000000000000000000000000000000000001'

/** A revert of `Settlement.claim` with `errorName`, wrapped as viem wraps it. */
function reverted(errorName: 'NothingToClaim' | 'WrongProof') {
  const args = errorName === 'NothingToClaim' ? ([account, 5n, 5n] as const) : ([account, 5n] as const)
  const data = encodeErrorResult({ abi: settlementAbi, errorName, args } as never)
  const cause = new ContractFunctionRevertedError({ abi: settlementAbi, data, functionName: 'claim' })
  return new ContractFunctionExecutionError(cause, { abi: settlementAbi, functionName: 'claim', args: [] })
}

describe('walletErrorSentence', () => {
  test("default: the contract's refusal by name, as a sentence", () => {
    expect(walletErrorSentence(reverted('NothingToClaim'))).toBe('There is nothing to claim: everything settled so far is already claimed.')
    expect(walletErrorSentence(reverted('WrongProof'))).toMatch(/^The chain refused the proof/)
  })

  test('behavior: a declined request says so', () => {
    expect(walletErrorSentence(new UserRejectedRequestError(new Error('User rejected the request.')))).toBe('You declined the request in your wallet.')
    expect(walletErrorSentence(Object.assign(new Error('nope'), { code: 4001 }))).toBe('You declined the request in your wallet.')
  })

  test("behavior: any other viem error gives its short message's first line, never the details", () => {
    const err = new BaseError('The RPC is down', { details: 'socket hang up at …' })
    expect(walletErrorSentence(err)).toBe('The RPC is down.')
  })
})
