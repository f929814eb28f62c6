/** A loop started by `startPeriodic`: `runOnce` joins a pass already running rather than starting a second. */
export interface Periodic {
  runOnce(): Promise<number>
  stop(): void
}

/** Runs `pass` every `intervalMs` (never two at once; a failed pass goes to `onError`), unref'd so it never keeps the process alive. */
export function startPeriodic(pass: () => Promise<number>, intervalMs: number, onError: (err: unknown) => void): Periodic {
  let running: Promise<number> | undefined
  const runOnce = () => {
    running ??= pass().finally(() => {
      running = undefined
    })
    return running
  }
  const timer = setInterval(() => {
    runOnce().catch(onError)
  }, intervalMs)
  timer.unref()
  return { runOnce, stop: () => clearInterval(timer) }
}
