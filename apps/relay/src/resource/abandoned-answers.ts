import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { DownloadTickets } from '@konbini/browser-node'
import type { DownloadTicket } from '@konbini/protocol'

interface Charge {
  ticket: DownloadTicket
  bytes: number
  settled: boolean
}

/**
 * Notices blocks of `POST /v1/blocks` answers that a client abandoned unread, and gives them back
 * to their ticket's unsigned tail (`DownloadTickets.forgive`). A client cancels a want another
 * provider answered first by aborting its request: a block this node already wrote then dies
 * in the client's socket buffer, never received, so never in a receipt. Two signs: the answer
 * closed before its bytes left this process, or the connection was reset (closed with unread
 * bytes) before the client sent its next request on it — a client that asks again on a
 * keep-alive connection has read the previous answer to its end.
 */
export class AbandonedAnswers {
  private readonly tickets: DownloadTickets
  private readonly lastOnSocket = new WeakMap<Socket, Charge>()
  private readonly watched = new WeakSet<Socket>()

  constructor(tickets: DownloadTickets) {
    this.tickets = tickets
  }

  /** A request arrived on `socket`: whatever answered before on it was read. */
  request(socket: Socket): void {
    this.lastOnSocket.delete(socket)
  }

  /** `bytes` of `ticket` were charged and are being written to `res`. */
  charged(res: ServerResponse, ticket: DownloadTicket, bytes: number): void {
    const socket = res.socket
    if (socket == null) return
    const charge: Charge = { ticket, bytes, settled: false }
    const previous = this.lastOnSocket.get(socket)
    // an earlier block of the same answer was followed by this one: the client kept reading
    if (previous !== undefined) previous.settled = true
    this.lastOnSocket.set(socket, charge)
    res.once('close', () => {
      if (!res.writableFinished) this.giveBack(charge)
    })
    if (this.watched.has(socket)) return
    this.watched.add(socket)
    socket.once('error', () => this.giveBack(this.lastOnSocket.get(socket)))
    socket.once('close', (hadError: boolean) => {
      if (hadError) this.giveBack(this.lastOnSocket.get(socket))
    })
  }

  private giveBack(charge: Charge | undefined): void {
    if (charge === undefined || charge.settled) return
    charge.settled = true
    this.tickets.forgive(charge.ticket, charge.bytes)
  }
}
