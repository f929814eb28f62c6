import { Notice } from '@konbini/ui'

/** Says that this tab acts as the devnet's dev user with a key the server handed it. */
export function DevKeyNotice({ address }: { address?: string }) {
  return (
    <Notice title="Devnet: this tab signs as the dev user">
      The server handed this page the devnet&apos;s dev key
      {address ? (
        <>
          {' '}
          (<span className="font-mono text-xs">{address}</span>)
        </>
      ) : null}
      , so anyone who can open it acts as that user. A real deployment signs with your own wallet and never sends a key to the page.
    </Notice>
  )
}
