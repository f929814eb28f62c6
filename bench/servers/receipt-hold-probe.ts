/**
 * Preloaded into a resource node (`NODE_OPTIONS=--import …/receipt-hold-probe.ts`) by
 * `BENCH_POT_TRACE` in bench/accounting-overhead.ts: measures how long the node held back blocks
 * waiting for a paid ticket's next receipt (`DownloadTickets.awaitReceiptRoom` with its unsigned
 * tail full) and writes the totals to `BENCH_RECEIPT_HOLD_FILE` after each hold. `heldMs` is wall
 * time during which at least one send waited (concurrent waits counted once).
 * Diagnostic only: it wraps the method, it does not change what it does — unless
 * `BENCH_RECEIPT_MAX_UNSIGNED_MIB` is set (an experiment): then a send waits only past that many
 * unsigned MiB instead of `MAX_UNSIGNED_BYTES`, to see what the hold-back itself costs; and
 * `BENCH_RECEIPT_REFUND=1` (another experiment, a candidate fix): a block charged on an HTTP
 * response the client then abandoned (closed before it finished, or the connection reset before
 * the next request on it: the client dropped unread bytes) no longer counts in the unsigned tail.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { writeFileSync } from 'node:fs'
import { type IncomingMessage, Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { DownloadTickets } from '@konbini/browser-node'
import { type DownloadTicket, MAX_UNSIGNED_BYTES } from '@konbini/protocol'

// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by the bench, not a turbo task
const file = process.env.BENCH_RECEIPT_HOLD_FILE
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by the bench, not a turbo task
const maxUnsigned = Number(process.env.BENCH_RECEIPT_MAX_UNSIGNED_MIB ?? 0) * 1024 * 1024 || MAX_UNSIGNED_BYTES
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by the bench, not a turbo task
const refund = process.env.BENCH_RECEIPT_REFUND === '1'
type Entry = { served: number; signed: number; waiters: Array<() => void> }
type Internals = {
  byId: Map<string, Entry>
  awaitReceiptRoom: DownloadTickets['awaitReceiptRoom']
  charge(ticket: DownloadTicket, signature: string, bytes: number): void
}

if (file !== undefined) {
  const proto = DownloadTickets.prototype as unknown as Internals
  const original = proto.awaitReceiptRoom
  const totals = { holds: 0, heldMs: 0, waits: 0, maxWaitMs: 0, refunds: 0, refundedBytes: 0, refundsOnClose: 0, refundsOnReset: 0 }
  // per paid ticket seen: bytes served (charged) and covered by receipts, to compare with what the client received
  const tickets = new Map<string, Entry>()
  const write = () =>
    writeFileSync(file, JSON.stringify({ ...totals, tickets: Object.fromEntries([...tickets].map(([id, e]) => [id, { served: e.served, signed: e.signed }])) }))
  setInterval(write, 100).unref()
  let waiting = 0
  let since = 0
  if (refund) {
    // the response each request handler runs for, so that `charge` knows where its block goes
    const current = new AsyncLocalStorage<ServerResponse>()
    type Charge = { entry: Entry; bytes: number; done: boolean }
    const lastCharge = new WeakMap<Socket, Charge>()
    const watched = new WeakSet<Socket>()
    const giveBack = (c: Charge | undefined, how: 'refundsOnClose' | 'refundsOnReset') => {
      if (c === undefined || c.done) return
      c.done = true
      totals[how]++
      c.entry.served -= c.bytes
      totals.refunds++
      totals.refundedBytes += c.bytes
      for (const wake of c.entry.waiters.splice(0)) wake()
    }
    const emit = Server.prototype.emit as (this: Server, event: string, ...args: unknown[]) => boolean
    Server.prototype.emit = function (this: Server, event: string, ...args: unknown[]) {
      if (event !== 'request') return emit.call(this, event, ...args)
      const [req, res] = args as [IncomingMessage, ServerResponse]
      // a new request on a keep-alive connection: the client read the previous answer to its end
      lastCharge.delete(req.socket)
      return current.run(res, () => emit.call(this, event, ...args))
    } as typeof Server.prototype.emit
    const { charge } = proto
    proto.charge = function (this: Internals, ticket: DownloadTicket, signature: string, bytes: number) {
      charge.call(this, ticket, signature, bytes)
      const res = current.getStore()
      const entry = this.byId.get(ticket.id.toLowerCase())
      const socket = res?.socket
      if (res === undefined || socket == null || entry === undefined) return
      const c: Charge = { entry, bytes, done: false }
      lastCharge.set(socket, c)
      res.once('close', () => {
        if (!res.writableFinished) giveBack(c, 'refundsOnClose')
      })
      if (!watched.has(socket)) {
        watched.add(socket)
        // closed with unread bytes, the client's side resets the connection
        socket.once('error', () => giveBack(lastCharge.get(socket), 'refundsOnReset'))
        socket.once('close', (hadError: boolean) => {
          if (hadError) giveBack(lastCharge.get(socket), 'refundsOnReset')
        })
      }
    }
  }
  proto.awaitReceiptRoom = async function (this: Internals, ticket: DownloadTicket, bytes: number, signal?: AbortSignal) {
    const entry = this.byId.get(ticket.id.toLowerCase())
    if (entry !== undefined && !tickets.has(ticket.id.toLowerCase())) {
      tickets.set(ticket.id.toLowerCase(), entry)
      if (tickets.size > 64) tickets.delete(tickets.keys().next().value as string)
    }
    // the same test as awaitReceiptRoom: will this send wait?
    if (entry === undefined || entry.served + bytes - entry.signed <= maxUnsigned)
      return maxUnsigned === MAX_UNSIGNED_BYTES ? original.call(this, ticket, bytes, signal) : undefined
    const t0 = performance.now()
    if (waiting++ === 0) since = t0
    try {
      return await original.call(this, ticket, bytes, signal)
    } finally {
      const now = performance.now()
      totals.waits++
      totals.maxWaitMs = Math.max(totals.maxWaitMs, now - t0)
      if (--waiting === 0) {
        totals.holds++
        totals.heldMs += now - since
        write()
      }
    }
  }
}
