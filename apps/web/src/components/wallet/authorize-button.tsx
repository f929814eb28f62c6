'use client'

import { Button } from '@konbini/ui'
import type { ReactNode } from 'react'
import type { GrantStatus } from '../../lib/wallet/use-session-grant.ts'

/** The button that asks the wallet for a grant to this tab's key, with what the request is waiting for. */
export function AuthorizeButton({
  grant,
  onAuthorize,
  testId,
  children,
}: {
  grant: GrantStatus
  onAuthorize: () => void
  testId: string
  children: ReactNode
}) {
  return (
    <div className="flex flex-wrap items-center gap-3">
      <Button variant="primary" data-testid={testId} disabled={grant.state === 'signing' || grant.state === 'sending'} onClick={onAuthorize}>
        {children}
      </Button>
      {grant.state === 'signing' && <span className="text-sm text-zinc-500">Waiting for the wallet to sign…</span>}
      {grant.state === 'sending' && <span className="text-sm text-zinc-500">Sending the grant to the meta node…</span>}
    </div>
  )
}
