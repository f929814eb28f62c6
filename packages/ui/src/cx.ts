/**
 * Joins class names, skipping falsy ones.
 * @example cx('px-2', isActive && 'font-bold') // 'px-2 font-bold' or 'px-2'
 */
export function cx(...classes: Array<string | false | null | undefined>): string {
  return classes.filter(Boolean).join(' ')
}
