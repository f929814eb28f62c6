/** When a donor tab stops serving on its own. */
export interface PausePolicy {
  /** Pause while the tab is hidden (off by default: donor tabs usually sit in the background). */
  pauseWhenHidden: boolean
  /** Pause while the browser's data-saver is on (on by default). */
  respectDataSaver: boolean
}

interface BatteryLike extends EventTarget {
  charging: boolean
}
interface ConnectionLike extends EventTarget {
  saveData?: boolean
}

/**
 * Watches battery, data-saver and visibility, and says why the donor should pause (or `undefined`
 * to serve). Calls `onChange` whenever the answer may have changed. Battery pause is always on.
 */
export class PauseMonitor {
  private policy: PausePolicy
  private readonly onChange: () => void
  private battery: BatteryLike | undefined
  private readonly connection: ConnectionLike | undefined
  private readonly listeners: Array<() => void> = []

  constructor(policy: PausePolicy, onChange: () => void) {
    this.policy = policy
    this.onChange = onChange
    this.connection = (navigator as Navigator & { connection?: ConnectionLike }).connection
  }

  async start(): Promise<void> {
    const nav = navigator as Navigator & { getBattery?: () => Promise<BatteryLike> }
    this.battery = await nav.getBattery?.().catch(() => undefined)
    this.listen(this.battery, 'chargingchange')
    this.listen(this.connection, 'change')
    this.listen(typeof document === 'undefined' ? undefined : document, 'visibilitychange')
  }

  setPolicy(policy: PausePolicy): void {
    this.policy = policy
    this.onChange()
  }

  stop(): void {
    for (const remove of this.listeners.splice(0)) remove()
  }

  /** Why the donor should not serve now, in words a user reads; undefined when it may. */
  reason(): string | undefined {
    if (this.battery && !this.battery.charging) return 'on battery'
    if (this.policy.respectDataSaver && this.connection?.saveData === true) return 'data-saver is on'
    if (this.policy.pauseWhenHidden && typeof document !== 'undefined' && document.visibilityState === 'hidden') return 'the tab is hidden'
    return undefined
  }

  private listen(target: EventTarget | undefined, type: string): void {
    if (target === undefined) return
    const handler = () => this.onChange()
    target.addEventListener(type, handler)
    this.listeners.push(() => target.removeEventListener(type, handler))
  }
}
