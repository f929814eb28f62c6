import { FileNotFoundError, type FileRecord, NotOwnerError, parseCid, type SignedOwnerRequest } from '@konbini/protocol'
import type { MetaContext } from './context.ts'
import { authorize } from './authorize-owner.ts'

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
