'use client'

import { Button, Notice } from '@konbini/ui'
import type { RewardsResponse } from '@konbini/protocol'
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import type { Address, Hex } from 'viem'
import { usePublicClient, useWriteContract } from 'wagmi'
import { formatKbt } from '../../lib/wallet/rewards.ts'
import type { WalletChain } from '../../lib/wallet/wallet-config.ts'
import { walletErrorSentence } from '../../lib/wallet/wallet-error.ts'

type TxStatus =
  | { state: 'idle' }
  | { state: 'signing' }
  | { state: 'pending'; hash: Hex }
  | { state: 'mined'; hash: Hex; gasUsed: bigint; amount: bigint }
  | { state: 'failed'; hash?: Hex; message: string }

/**
 * The Claim button: `Settlement.claim(account, cumulative, proof)` sent through the wallet, with
 * the gas it should take (estimated against the chain first) and the transaction's status.
 */
export function ClaimPanel({
  account,
  chain,
  rewards,
  claimable,
  onDone,
}: {
  account: Address
  chain: WalletChain
  rewards: RewardsResponse
  claimable: bigint
  onDone: () => void
}) {
  const client = usePublicClient({ chainId: chain.chainId })
  const write = useWriteContract()
  const [tx, setTx] = useState<TxStatus>({ state: 'idle' })
  const call = {
    address: chain.contracts.settlement,
    abi: chain.abi.settlement,
    functionName: 'claim',
    args: [account, BigInt(rewards.cumulative), rewards.proof as Hex[]],
  } as const
  const gas = useQuery({
    queryKey: ['konbini-claim-gas', account, rewards.cumulative, rewards.epoch],
    enabled: claimable > 0n && client !== undefined,
    retry: false,
    queryFn: () => (client as NonNullable<typeof client>).estimateContractGas({ ...call, account }),
  })
  const busy = tx.state === 'signing' || tx.state === 'pending'

  const claim = async () => {
    if (client === undefined) return
    setTx({ state: 'signing' })
    let hash: Hex | undefined
    try {
      hash = await write.mutateAsync({ ...call, chainId: chain.chainId })
      setTx({ state: 'pending', hash })
      const receipt = await client.waitForTransactionReceipt({ hash })
      setTx(
        receipt.status === 'success'
          ? { state: 'mined', hash, gasUsed: receipt.gasUsed, amount: claimable }
          : { state: 'failed', hash, message: 'The claim was mined but reverted: nothing was paid.' },
      )
    } catch (err) {
      setTx({ state: 'failed', ...(hash && { hash }), message: walletErrorSentence(err, 'The claim was not sent.') })
    }
    onDone()
  }

  return (
    <div className="flex flex-col gap-3" data-testid="claim-panel">
      <div className="flex flex-wrap items-center gap-3">
        <Button variant="primary" data-testid="claim-button" disabled={claimable === 0n || busy} onClick={() => void claim()}>
          {claimable === 0n ? 'Nothing to claim' : `Claim ${formatKbt(claimable)}`}
        </Button>
        {claimable > 0n && (
          <span className="text-sm text-zinc-600 dark:text-zinc-300" data-testid="claim-gas" data-value={gas.data === undefined ? '' : String(gas.data)}>
            {gas.data !== undefined
              ? `Estimated gas: ${gas.data.toLocaleString('en-US')}`
              : gas.error
                ? walletErrorSentence(gas.error, 'The gas could not be estimated.')
                : 'Estimating gas…'}
          </span>
        )}
      </div>
      <p className="text-xs text-zinc-500 dark:text-zinc-400">
        A claim pays the settled cumulative amount ({formatKbt(rewards.cumulative)} through epoch {rewards.epoch}) less what was already claimed, proven by the
        meta quorum&apos;s reward tree on chain.
      </p>
      <TxLine tx={tx} />
    </div>
  )
}

function TxLine({ tx }: { tx: TxStatus }) {
  if (tx.state === 'idle') return null
  const hash = 'hash' in tx && tx.hash ? <span className="font-mono text-xs"> {tx.hash}</span> : null
  if (tx.state === 'failed') {
    return (
      <Notice tone="error" title="Claim failed">
        <span data-testid="claim-status" data-state="failed">
          {tx.message}
        </span>
        {hash}
      </Notice>
    )
  }
  const text =
    tx.state === 'signing'
      ? 'Waiting for the wallet to sign…'
      : tx.state === 'pending'
        ? 'Sent; waiting for it to be mined…'
        : `Mined: ${formatKbt(tx.amount)} paid, ${tx.gasUsed.toLocaleString('en-US')} gas used.`
  return (
    <p className="text-sm" data-testid="claim-status" data-state={tx.state} data-gas-used={tx.state === 'mined' ? String(tx.gasUsed) : undefined}>
      {text}
      {hash}
    </p>
  )
}
