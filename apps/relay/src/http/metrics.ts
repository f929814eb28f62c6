import type { Handler } from './router.ts'

type Labels = Record<string, string>

/** A minimal Prometheus registry: counters and gauges, text exposition format. */
export class Metrics {
  private readonly counters = new Map<string, Map<string, number>>()
  private readonly gauges = new Map<string, () => number>()

  inc(name: string, by = 1, labels: Labels = {}): void {
    const series = this.counters.get(name) ?? new Map<string, number>()
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',')
    series.set(key, (series.get(key) ?? 0) + by)
    this.counters.set(name, series)
  }

  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read)
  }

  /** The value of one counter series (tests, /healthz). */
  value(name: string, labels: Labels = {}): number {
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')
    return this.counters.get(name)?.get(key) ?? 0
  }

  render(): string {
    const lines: string[] = []
    for (const [name, series] of this.counters) {
      lines.push(`# TYPE ${name} counter`)
      for (const [key, value] of series) lines.push(`${name}${key ? `{${key}}` : ''} ${value}`)
    }
    for (const [name, read] of this.gauges) lines.push(`# TYPE ${name} gauge`, `${name} ${read()}`)
    return `${lines.join('\n')}\n`
  }

  handler(): Handler {
    return (req, res, url) => {
      if (url.pathname !== '/metrics' || req.method !== 'GET') return false
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end(this.render())
      return true
    }
  }
}
