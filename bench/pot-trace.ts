import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { HttpBlockSession, ReceiptSigner } from '@konbini/browser-node'
import { RECEIPT_HEADER } from '@konbini/protocol'
import { round } from './harness.ts'

/** With a trace, each resource node also records how long it held back blocks waiting for receipts. */
const holdProbe = pathToFileURL(fileURLToPath(new URL('./servers/receipt-hold-probe.ts', import.meta.url))).href

type Event = [number, 'block' | 'sign' | 'signed' | 'ride' | 'post' | 'posted' | 'refused' | 'abort' | 'failed', string, number]

/** What receipt-hold-probe.ts writes: holds so far, refunds (an experiment) and each paid ticket's bytes served and signed. */
interface HoldTotals {
  holds: number
  heldMs: number
  refunds?: number
  refundedBytes?: number
  tickets?: Record<string, { served: number; signed: number }>
}

/** One traced download: `failed` notes why it failed, `end` writes its timeline. */
export interface TracedRun {
  failed(err: Error): void
  end(run: { name: string; ticketId: string; ms: number; t0: number; peerIds: string[] }): Promise<void>
}

/**
 * `BENCH_POT_TRACE=<dir>` for accounting_overhead: a timeline of every download (per provider:
 * bytes as they arrive, receipts signed, receipts riding want requests, HTTP receipt posts
 * answered, wants abandoned), the client's event-loop lag, and — for downloads with receipts —
 * how long each node held back blocks waiting for them (a probe loaded into each node).
 */
export class PotTrace {
  private readonly dir: string
  private readonly nodes: number
  private events: Event[] | undefined
  private runs = 0

  private constructor(dir: string, nodes: number) {
    this.dir = dir
    this.nodes = nodes
  }

  /** A trace into `dir` (created now: the nodes' probes write there from their start) for `nodes` resource nodes. */
  static async create(dir: string, nodes: number): Promise<PotTrace> {
    await mkdir(dir, { recursive: true })
    return new PotTrace(dir, nodes)
  }

  /** The resource nodes' extra environment: the hold probe. */
  nodeEnv = (i: number) => ({ NODE_OPTIONS: `--import=${holdProbe}`, BENCH_RECEIPT_HOLD_FILE: this.holdFile(i) })

  /** Wraps ReceiptSigner, HttpBlockSession and fetch to record events; returns the undo. */
  install(): () => void {
    type Signer = { add(p: string, b: number): unknown; sign(p: string): Promise<{ receipt: { bytes: number } }>; received: Map<string, number> }
    const proto = ReceiptSigner.prototype as unknown as Signer
    const { add, sign } = proto
    const originalFetch = globalThis.fetch
    const push = (e: Event) => this.events?.push(e)
    proto.add = function (this: Signer, provider: string, bytes: number) {
      push([performance.now(), 'block', provider, bytes])
      return add.call(this, provider, bytes)
    }
    proto.sign = async function (this: Signer, provider: string) {
      push([performance.now(), 'sign', provider, this.received.get(provider) ?? 0])
      const r = await sign.call(this, provider)
      push([performance.now(), 'signed', provider, r.receipt.bytes])
      return r
    }
    globalThis.fetch = async (input, init) => {
      const riding = (init?.headers as Record<string, string> | undefined)?.[RECEIPT_HEADER]
      if (riding !== undefined) {
        const { receipt } = JSON.parse(Buffer.from(riding, 'base64url').toString()) as { receipt: { provider: string; bytes: number } }
        push([performance.now(), 'ride', receipt.provider, receipt.bytes])
      }
      if (!String(input).endsWith('/v1/blocks/receipts') || typeof init?.body !== 'string') return originalFetch(input, init)
      const { receipts } = JSON.parse(init.body) as { receipts: Array<{ receipt: { provider: string; bytes: number } }> }
      for (const { receipt } of receipts) push([performance.now(), 'post', receipt.provider, receipt.bytes])
      const res = await originalFetch(input, init)
      for (const { receipt } of receipts) push([performance.now(), 'posted', receipt.provider, receipt.bytes])
      void res
        .clone()
        .json()
        .then(
          (a: { rejected?: unknown[] }) => {
            if (!res.ok || (a.rejected?.length ?? 0) > 0) push([performance.now(), 'refused', JSON.stringify(a).slice(0, 300), res.status])
          },
          () => {},
        )
      return res
    }
    // HTTP wants given up while their request was on the way (a hedge lost, a move): the node may have sent (and charged) the block
    type Session = { provider: string; cancel(cid: unknown): void; requests: Set<{ controller: AbortController }> }
    const session = HttpBlockSession.prototype as unknown as Session
    const { cancel } = session
    session.cancel = function (this: Session, cid: unknown) {
      const live = [...this.requests].filter((r) => !r.controller.signal.aborted)
      cancel.call(this, cid)
      for (const r of live) if (r.controller.signal.aborted) push([performance.now(), 'abort', this.provider, 0])
    }
    return () => {
      proto.add = add
      proto.sign = sign
      session.cancel = cancel
      globalThis.fetch = originalFetch
    }
  }

  /** Starts recording one download (`withReceipts`: also the nodes' holds). */
  async begin(transport: string, withReceipts: boolean): Promise<TracedRun> {
    this.events = []
    const heldBefore = withReceipts ? await this.held() : undefined
    // how late this process's event loop ran (the client's)
    const lag = monitorEventLoopDelay({ resolution: 5 })
    lag.enable()
    return {
      failed: (err) => this.events?.push([performance.now(), 'failed', err.message, 0]),
      end: async ({ name, ticketId, ms, t0, peerIds }) => {
        lag.disable()
        const events = (this.events ?? []).map(([t, ...rest]) => [round(t - t0), ...rest] as const)
        this.events = undefined
        const loopLagMs = { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 }
        // let the probes write what the final receipts changed
        if (heldBefore) await new Promise((r) => setTimeout(r, 250))
        const after = heldBefore && (await this.held())
        // per node: holds (stretches with a send waiting for a receipt) and their total ms in this run,
        // and the ticket's bytes served (charged) and signed there against the bytes the client received
        const nodes = after?.map((a, i) => {
          const peerId = peerIds[i] ?? ''
          const t = a.tickets?.[ticketId.toLowerCase()]
          const received = events.reduce((n, e) => (e[1] === 'block' && e[2] === peerId ? n + (e[3] as number) : n), 0)
          return {
            peerId,
            holds: a.holds - (heldBefore?.[i]?.holds ?? 0),
            heldMs: round(a.heldMs - (heldBefore?.[i]?.heldMs ?? 0)),
            ...(a.refunds !== undefined && {
              refunds: a.refunds - (heldBefore?.[i]?.refunds ?? 0),
              refundedBytes: (a.refundedBytes ?? 0) - (heldBefore?.[i]?.refundedBytes ?? 0),
            }),
            ...(t && { served: t.served, signed: t.signed, received, servedNotReceived: t.served - received }),
          }
        })
        await writeFile(join(this.dir, `${transport}-${++this.runs}-${name}.json`), JSON.stringify({ transport, ms, loopLagMs, nodes, events }))
      },
    }
  }

  private holdFile(i: number): string {
    return join(this.dir, `held-node${i + 1}.json`)
  }

  /** The nodes' hold totals so far. */
  private held(): Promise<HoldTotals[]> {
    const read = async (i: number): Promise<HoldTotals> => {
      // the probe rewrites the file in place: a read can catch it empty
      for (let attempt = 0; attempt < 20; attempt++) {
        const text = await readFile(this.holdFile(i), 'utf8').catch(() => undefined)
        if (text === undefined) return { holds: 0, heldMs: 0 }
        try {
          return JSON.parse(text) as HoldTotals
        } catch {
          await new Promise((r) => setTimeout(r, 10))
        }
      }
      throw new Error(`${this.holdFile(i)} stays unreadable`)
    }
    return Promise.all(Array.from({ length: this.nodes }, (_, i) => read(i)))
  }
}
