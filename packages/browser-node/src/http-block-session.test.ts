import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { blockFrameParts, type DownloadTicket, RECEIPT_HEADER, type SignedReceipt } from '@konbini/protocol'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, test } from 'vitest'
import { HttpBlockSession } from './http-block-session.ts'
import { ReceiptSigner } from './receipt-signer.ts'

const PROVIDER = '12D3KooWCeUrkyov6SuzyGHANXUD8QrdmxbUsqRHtQWVVSnLMGKu'

async function block(fill: number, size: number): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = new Uint8Array(size).fill(fill)
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

const bodyOf = async (req: IncomingMessage): Promise<string> => {
  let text = ''
  for await (const chunk of req) text += chunk
  return text
}

/** A full node's HTTP block exchange as far as the client sees it: answers wants with blocks, records headers and receipt posts. */
async function fakeNode(blocks: Array<{ cid: CID; bytes: Uint8Array }>) {
  const wantReceipts: Array<SignedReceipt | undefined> = []
  const posted: SignedReceipt[] = []
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req)
    if (req.url === '/v1/blocks/receipts') {
      posted.push(...(JSON.parse(body) as { receipts: SignedReceipt[] }).receipts)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: 1, rejected: [] }))
      return
    }
    const header = req.headers[RECEIPT_HEADER]
    wantReceipts.push(typeof header === 'string' ? (JSON.parse(Buffer.from(header, 'base64url').toString()) as SignedReceipt) : undefined)
    res.writeHead(200, { 'content-type': 'application/vnd.konbini.frames' })
    for (const cid of (JSON.parse(body) as { cids: string[] }).cids) {
      const found = blocks.find((b) => b.cid.toString() === cid)
      if (found) for (const part of blockFrameParts(found.cid, found.bytes)) res.write(part)
    }
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, wantReceipts, posted, close: () => new Promise((r) => server.close(r)) }
}

describe('HttpBlockSession receipts', () => {
  let close: (() => Promise<unknown>) | undefined
  afterEach(async () => close?.())

  test('behavior: a receipt rides the next want request to the node (x-konbini-receipt); the last one, never carried, is posted at finish', async () => {
    const blocks = [await block(1, 3000), await block(2, 3000), await block(3, 500)]
    const node = await fakeNode(blocks)
    close = node.close
    const consumer = privateKeyToAccount(generatePrivateKey())
    const ticket: DownloadTicket = {
      id: `0x${'ab'.repeat(32)}`,
      meta: consumer.address,
      consumer: consumer.address,
      payer: consumer.address,
      root: blocks[0]?.cid.toString() as string,
      providers: [PROVIDER],
      maxBytes: 1_000_000,
      epoch: 3,
      expiresAt: Math.floor(Date.now() / 1000) + 60,
    }
    let signing: Promise<unknown> = Promise.resolve()
    const signer = {
      address: consumer.address,
      signTypedData: (typedData: Parameters<typeof consumer.signTypedData>[0]) => {
        const signature = consumer.signTypedData(typedData)
        signing = signature
        return signature
      },
    }
    const receipts = new ReceiptSigner({ ticket, signer, intervalBytes: 2000 })
    const session = new HttpBlockSession({ peerId: PROVIDER, httpUrl: node.url, multiaddrs: [] }, { ticket, signature: '0x' }, receipts)
    for (const { cid } of blocks) {
      await session.want(cid)
      // the receipt due after this block is signed (and handed to the session) before the next want goes
      await signing
      await new Promise((r) => setImmediate(r))
    }
    await session.finish()
    // the first want carried nothing; the receipt for 3000 bytes rode the second, the one for 6000 the third
    expect(node.wantReceipts.map((r) => r?.receipt.bytes)).toEqual([undefined, 3000, 6000])
    expect(node.wantReceipts[1]?.receipt).toMatchObject({ provider: PROVIDER, consumer: consumer.address, ticket: ticket.id, epoch: 3 })
    // nothing was posted on its own but the last receipt, which no want could carry
    expect(node.posted.map((r) => r.receipt.bytes)).toEqual([6500])
  })
})
