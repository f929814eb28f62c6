import { settlementAbi } from '@konbini/contracts'
import type { ChainContracts } from '@konbini/protocol'
import { type Address, createPublicClient, http } from 'viem'

export interface MetaWhitelistWatch {
  stop(): void
}

/**
 * Keeps a resource node's trusted meta nodes in step with the chain's whitelist: every
 * `intervalMs`, each configured meta node that the settlement no longer lists (kicked by vote)
 * leaves `trusted` — its tickets are refused from then on — and comes back if voted in again.
 * `trusted` is the very array the ticket checks read.
 */
export function watchMetaWhitelist({
  rpcUrl,
  contracts,
  configured,
  trusted,
  intervalMs,
  onChange,
}: {
  rpcUrl: string
  contracts: ChainContracts
  configured: readonly string[]
  trusted: string[]
  intervalMs: number
  onChange?: (trusted: readonly string[]) => void
}): MetaWhitelistWatch {
  const pub = createPublicClient({ transport: http(rpcUrl) })
  const check = async () => {
    const listed = await Promise.all(
      configured.map((meta) =>
        pub.readContract({ address: contracts.settlement as Address, abi: settlementAbi, functionName: 'isMeta', args: [meta as Address] }),
      ),
    )
    const next = configured.filter((_, i) => listed[i])
    if (next.join() === trusted.join()) return
    trusted.splice(0, trusted.length, ...next)
    onChange?.(trusted)
  }
  const timer = setInterval(() => void check().catch(() => {}), intervalMs)
  timer.unref()
  void check().catch(() => {})
  return { stop: () => clearInterval(timer) }
}
