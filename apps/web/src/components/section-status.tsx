import { Notice } from '@konbini/ui'
import type { Section } from '../lib/overview.ts'

/** The error or "not asked" box for a section that has no data; `null` when it has data. */
export function SectionStatus({ section, what }: { section: Section<unknown>; what: string }) {
  if (section.state === 'ok') return null
  if (section.state === 'skipped') return <Notice title={`No ${what} to show`}>{section.reason}</Notice>
  const unreachable = section.error.name === 'MetaUnavailableError'
  return (
    <Notice tone="error" title={unreachable ? 'The meta node is unreachable' : `Could not load ${what}`}>
      <p>{section.error.message}</p>
      {unreachable && (
        <p className="mt-1">
          Start the devnet with <code className="font-mono">npm start</code>, or point <code className="font-mono">KONBINI_META_URL</code> at a running meta
          node.
        </p>
      )}
      {!unreachable && <p className="mt-1 font-mono text-xs opacity-75">{section.error.name}</p>}
    </Notice>
  )
}
