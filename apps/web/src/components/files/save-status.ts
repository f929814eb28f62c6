/** Where a Save of one root stands. */
export type SaveState =
  | { state: 'saving'; sent: number; size: number; peerShare: number }
  | { state: 'saved'; peerShare: number }
  | { state: 'cancelled' }
  | { state: 'error'; message: string }

/** The share of bytes donor tabs carried, as a user reads it ("0 %" included: no peer carried any). */
function fromPeers(share: number): string {
  return ` · ${Math.round(share * 100)} % from peers`
}

/**
 * What a row's save status says: the share from peers once a byte arrived, and always when saved.
 * @example saveStatusText({ state: 'saved', peerShare: 0 }) // 'Saved · 0 % from peers'
 */
export function saveStatusText(s: SaveState | undefined): string {
  if (!s) return ''
  if (s.state === 'saving') {
    const share = s.sent > 0 ? fromPeers(s.peerShare) : ''
    return s.size > 0 ? `Saving… ${Math.floor((s.sent / s.size) * 100)} %${share}` : `Saving…${share}`
  }
  if (s.state === 'saved') return `Saved${fromPeers(s.peerShare)}`
  if (s.state === 'cancelled') return 'Save cancelled'
  return s.message
}
