import { isIPv6 } from 'node:net'

/**
 * The key a per-source cap counts under: an IPv4 address as is (also when mapped into IPv6), and
 * for IPv6 its /64 — one subscriber usually holds a whole /64, so counting single addresses would
 * let one machine open as many connections as it has addresses.
 *
 * @example
 * addressKey('::ffff:10.0.0.1') // '10.0.0.1'
 * addressKey('2001:db8::1')     // '2001:db8:0:0::/64'
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1] as string
  if (!isIPv6(address)) return address
  const [head = '', tail = ''] = address.split('::', 2)
  const left = head === '' ? [] : head.split(':')
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : []
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}
