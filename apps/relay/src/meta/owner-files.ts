import {
  FileNotFoundError,
  type FileRecord,
  InvalidRequestError,
  NotOwnerError,
  parseCid,
  type SignedOwnerRequest,
  SignatureInvalidError,
} from '@konbini/protocol'
import type { MetaContext } from './context.ts'
import { recoverOwnerRequestSigner } from './verify-signatures.ts'

/**
 * The owner a request acts for: signed by the owner itself, or by a session key the owner (a
 * wallet) authorized with a grant still valid (a browser acting for its wallet holds no wallet key).
 */
async function authorize(ctx: MetaContext, { request, signature }: SignedOwnerRequest, action: SignedOwnerRequest['request']['action']): Promise<string> {
  if (request.action !== action) throw new InvalidRequestError({ reason: `this route takes an "${action}" request` })
  const now = ctx.now()
  const owner = request.owner.toLowerCase()
  const signer = (await recoverOwnerRequestSigner(request, signature, ctx.config.chainId, now)).toLowerCase()
  if (signer !== owner) {
    const [granted] = await ctx.pot.grantsOf([signer], now)
    if (granted?.grant.wallet.toLowerCase() !== owner) throw new SignatureInvalidError()
  }
  if (!(await ctx.store.useNonce(owner, request.nonce, request.expiresAt, now))) throw new SignatureInvalidError()
  return owner
}

export async function listOwnerFiles(ctx: MetaContext, signed: SignedOwnerRequest): Promise<{ files: FileRecord[] }> {
  const owner = await authorize(ctx, signed, 'ls')
  return { files: await ctx.store.listFiles(owner) }
}

export async function statOwnerFile(ctx: MetaContext, signed: SignedOwnerRequest): Promise<{ file: FileRecord }> {
  const owner = await authorize(ctx, signed, 'stat')
  const root = parseCid(signed.request.target).toString()
  const file = await ctx.store.getFile(owner, root)
  if (file === undefined) throw await missingOrForeign(ctx, root, owner)
  return { file }
}

/** Drops the owner's pin; blocks no file references are collected later (see ARCHITECTURE.md). */
export async function removeOwnerFile(ctx: MetaContext, signed: SignedOwnerRequest): Promise<{ removed: string }> {
  const owner = await authorize(ctx, signed, 'rm')
  const root = parseCid(signed.request.target).toString()
  if (!(await ctx.store.removeFile(owner, root))) throw await missingOrForeign(ctx, root, owner)
  return { removed: root }
}

async function missingOrForeign(ctx: MetaContext, root: string, owner: string): Promise<Error> {
  return (await ctx.store.getAnyFile(root)) ? new NotOwnerError({ cid: root, address: owner }) : new FileNotFoundError({ cid: root })
}
