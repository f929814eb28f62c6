'use client'

import { Notice } from '@konbini/ui'

/** Last resort for a render failure: a sentence and a retry, never a stack trace. */
export default function ErrorPage({ reset }: { error: Error; reset: () => void }) {
  return (
    <main className="mx-auto max-w-3xl p-8">
      <Notice tone="error" title="The portal could not render this page.">
        <button type="button" onClick={reset} className="mt-2 rounded-md border border-current px-3 py-1 text-sm">
          Try again
        </button>
      </Notice>
    </main>
  )
}
