'use client'

import { useEffect, useState } from 'react'
import { type BrowserKonbini, type BrowserKonbiniInit, getBrowserKonbini } from '../lib/browser-konbini.ts'
import { errorSentence } from '../lib/shown-error.ts'

export type KonbiniState = { state: 'loading' } | { state: 'ready'; konbini: BrowserKonbini } | { state: 'error'; message: string }

/**
 * Starts (or reuses) the tab's Konbini client after first paint.
 * @example const client = useBrowserKonbini(init)
 */
export function useBrowserKonbini(init: BrowserKonbiniInit): KonbiniState {
  const [state, setState] = useState<KonbiniState>({ state: 'loading' })
  const key = JSON.stringify(init)
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `init`'s content
  useEffect(() => {
    let live = true
    getBrowserKonbini(init).then(
      (konbini) => live && setState({ state: 'ready', konbini }),
      (err) => live && setState({ state: 'error', message: errorSentence(err, 'The Konbini client could not start in this tab.') }),
    )
    return () => {
      live = false
    }
  }, [key])
  return state
}
