import { signOwnerRequest } from '@konbini/browser-node'
import { DEVNET_CHAIN_ID, parseCid } from '@konbini/protocol'
import { type GlobalFlags, openMeta } from './context.ts'
import { print } from './output.ts'

/** `konbini deny <cid>` / `konbini allow <cid>`: changes the light peers' denylist (signed by a meta admin's key). */
export async function denyCommand(flags: GlobalFlags, action: 'deny' | 'allow', cid: string): Promise<void> {
  const target = parseCid(cid).toString()
  const { meta, account, chainId } = await openMeta(flags)
  const { roots } = await meta.post('deny', await signOwnerRequest(account, action, target, chainId ?? DEVNET_CHAIN_ID))
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
