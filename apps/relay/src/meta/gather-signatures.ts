import { cosignResponse, epochReportTypedData, parseWith } from '@konbini/protocol'
import type { Logger } from 'pino'
import { type Hex, recoverTypedDataAddress } from 'viem'
import type { MetaStore } from './db/meta-store.ts'
import type { PotStore } from './db/pot-store.ts'
import { type StoredReport, toChainReport } from './epochs.ts'

/**
 * Asks the other meta nodes of this index to co-sign a report (each fetches the archive and
 * recomputes it before it signs) until `needed` signatures are in; a refusal or a silent peer is
 * skipped. A returned signature counts only if it recovers to the signer it names.
 */
export async function gatherSignatures({
  pot,
  store,
  self,
  report,
  needed,
  log,
  chainId,
  settlement,
}: {
  chainId: number
  settlement: Hex
  pot: PotStore
  store: MetaStore
  self: string
  report: StoredReport['report']
  needed: number
  log: Logger
}): Promise<Array<{ signer: string; signature: Hex }>> {
  const holders = await Promise.all((await store.holdersOf(report.archiveCid)).map(async (peerId) => (await store.getNode(peerId))?.httpUrl))
  const body = JSON.stringify({ report, holders: holders.filter((u): u is string => typeof u === 'string' && u !== '').slice(0, 16) })
  const peers = (await pot.metaPeers()).filter((p) => p.address !== self.toLowerCase())
  const out: Array<{ signer: string; signature: Hex }> = []
  for (const peer of peers) {
    if (out.length >= needed) break
    try {
      const res = await fetch(new URL('/v1/epochs/cosign', peer.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(60_000),
      })
      const answer = (await res.json()) as unknown
      if (!res.ok) {
        log.warn({ peer: peer.address, answer }, 'a meta node refused to co-sign')
        continue
      }
      const { signer, signature } = parseWith(cosignResponse, answer)
      const typed = epochReportTypedData(toChainReport({ report, rewards: [], spends: [], earned: [], spent: [] }), chainId, settlement)
      const recovered = await recoverTypedDataAddress({ ...typed, signature: signature as Hex })
      if (recovered.toLowerCase() !== signer.toLowerCase()) continue
      out.push({ signer: signer.toLowerCase(), signature: signature as Hex })
    } catch (err) {
      log.warn({ peer: peer.address, err }, 'a meta node did not answer the co-signing request')
    }
  }
  return out
}
