import { DEVNET_CHAIN_ID, ownerRequestTypedData, parseCid } from '@konbini/protocol'
import { generatePrivateKey } from 'viem/accounts'
import { type GlobalFlags, openMeta } from './context.ts'
import { print } from './output.ts'

/** `konbini deny <cid>` / `konbini allow <cid>`: changes the light peers' denylist (signed by a meta admin's key). */
export async function denyCommand(flags: GlobalFlags, action: 'deny' | 'allow', cid: string): Promise<void> {
  const target = parseCid(cid).toString()
  const { meta, account, chainId } = await openMeta(flags)
  const request = { owner: account.address, action, target, nonce: generatePrivateKey().slice(2, 34), expiresAt: Math.floor(Date.now() / 1000) + 120 }
  const signature = await account.signTypedData(ownerRequestTypedData(request, chainId ?? DEVNET_CHAIN_ID))
  const { roots } = await meta.post('deny', { request, signature })
  print(flags.json, { action, root: target, roots }, () =>
    action === 'deny' ? `Denied ${target}: light peers drop it (${roots.length} on the denylist).` : `Allowed ${target} (${roots.length} on the denylist).`,
  )
}

/** `konbini denylist`: the roots light peers must not cache or serve. */
export async function denylistCommand(flags: GlobalFlags): Promise<void> {
  const { meta } = await openMeta(flags)
  const { roots } = await meta.get('denylist')
  print(flags.json, { roots }, () => roots.join('\n') || 'The denylist is empty.')
}
