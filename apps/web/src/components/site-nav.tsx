import Link from 'next/link'

const links = [
  { href: '/', label: 'Network' },
  { href: '/files', label: 'Files' },
  { href: '/donate', label: 'Donate' },
  { href: '/rewards', label: 'Rewards' },
] as const

/** The portal's page links. */
export function SiteNav() {
  return (
    <nav aria-label="Portal" className="flex gap-4 text-sm">
      {links.map((l) => (
        <Link key={l.href} href={l.href} className="text-sky-700 underline-offset-4 hover:underline dark:text-sky-400">
          {l.label}
        </Link>
      ))}
    </nav>
  )
}
