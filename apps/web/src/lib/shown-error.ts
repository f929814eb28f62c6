/**
 * One sentence for the user from anything thrown in the tab: a named error's message, a plain
 * sentence for network and abort failures, never a stack trace.
 * @example setError(errorSentence(err))
 */
export function errorSentence(err: unknown, fallback = 'Something unexpected went wrong.'): string {
  if (!(err instanceof Error) && !(err instanceof DOMException)) return fallback
  if (err.name === 'AbortError') return 'Cancelled.'
  if (err.name === 'QuotaExceededError') return 'The browser has no room left for this site; free some storage and try again.'
  if (err instanceof TypeError && /fetch|network/i.test(err.message)) return 'The network could not be reached; is the devnet running (`npm start`)?'
  const message = err.message.split('\n')[0]?.trim()
  if (!message) return fallback
  return /[.!?]$/.test(message) ? message : `${message}.`
}
