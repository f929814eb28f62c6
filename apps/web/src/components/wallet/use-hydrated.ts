'use client'

import { useEffect, useState } from 'react'

/** False during the server render and hydration, true after: what only the tab knows (wallets found, localStorage) renders then. */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])
  return hydrated
}
