import type { BrowserKonbini, Donor, DonorCaps } from './browser-konbini.ts'

interface Session {
  donor: Promise<Donor>
  caps: DonorCaps
}

// The tab's one donor, outside React so it keeps serving while the user visits other pages.
let current: Session | undefined

/** The running (or starting) donor, if any. */
export function currentDonor(): Promise<Donor> | undefined {
  return current?.donor
}

async function end(session: Session): Promise<void> {
  const donor = await session.donor.catch(() => undefined)
  await donor?.stop()
}

/**
 * Starts donating with `caps`, or restarts the donor when it runs with other caps. The session is
 * recorded before anything is awaited, so two quick calls never start two donors.
 * @example const donor = await startDonor(konbini, caps)
 */
export function startDonor(konbini: BrowserKonbini, caps: DonorCaps): Promise<Donor> {
  if (current && JSON.stringify(current.caps) === JSON.stringify(caps)) return current.donor
  if (current) {
    // a running donor takes new caps in place: no reconnect, no new relay reservation
    const running = current
    running.caps = caps
    running.donor = running.donor.then((donor) => {
      if (donor.stats().state === 'stopped') return konbini.startDonating(caps)
      donor.setCaps(caps)
      return donor
    })
    return running.donor
  }
  const previous = current
  const session: Session = {
    caps,
    donor: (async () => {
      if (previous) await end(previous)
      return konbini.startDonating(caps)
    })(),
  }
  current = session
  session.donor.catch(() => {
    if (current === session) current = undefined
  })
  return session.donor
}

/**
 * Stops the donor if one runs; the browser client's `donor.stop()` leaves nothing running.
 * @example await stopDonor()
 */
export async function stopDonor(): Promise<void> {
  const session = current
  current = undefined
  if (session) await end(session)
}
