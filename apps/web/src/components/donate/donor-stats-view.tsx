import { Badge, type BadgeTone, formatBytes, ProgressBar, shortId, Stat } from '@konbini/ui'
import type { DonorCaps, DonorStats } from '../../lib/browser-konbini.ts'
import { NO_CAP } from '../../lib/donate-settings.ts'

const stateTone: Record<DonorStats['state'], BadgeTone> = { starting: 'amber', serving: 'green', paused: 'amber', stopped: 'gray' }

const MiB = 1024 * 1024

/** The upload caps in force, as a user reads them ("no cap" for 0). */
function capsInForce(caps: Pick<DonorCaps, 'uploadKBps' | 'dailyMiB'>): string {
  const rate = caps.uploadKBps === NO_CAP ? 'no cap' : `${caps.uploadKBps} KiB/s`
  const daily = caps.dailyMiB === NO_CAP ? 'no cap' : `${formatBytes(caps.dailyMiB * MiB)} per 24 h`
  return `Upload rate: ${rate} · daily upload: ${daily}`
}

/** The donor's live numbers: state, the caps in force, bytes served (all time and last 24 h against the cap), peers, cache. */
export function DonorStatsView({ stats, caps }: { stats: DonorStats; caps: DonorCaps }) {
  const dailyCap = caps.dailyMiB * MiB
  return (
    <div className="flex flex-col gap-4">
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <span data-testid="donate-state" data-value={stats.state}>
          <Badge tone={stateTone[stats.state]}>{stats.state}</Badge>
        </span>
        {stats.pauseReason && (
          <span data-testid="donate-pause-reason" className="text-zinc-600 dark:text-zinc-300">
            {stats.pauseReason}
          </span>
        )}
        {stats.peerId && (
          <span className="font-mono text-xs text-zinc-500" title={stats.peerId} data-testid="donate-peer-id" data-value={stats.peerId}>
            peer {shortId(stats.peerId, 8, 6)}
          </span>
        )}
      </p>
      <p
        className="text-xs text-zinc-500 dark:text-zinc-400"
        data-testid="donate-caps-in-force"
        data-upload-kibps={caps.uploadKBps}
        data-daily-mib={caps.dailyMiB}
      >
        {capsInForce(caps)}
      </p>
      <dl className="grid gap-3 sm:grid-cols-4">
        <Stat label="Served" value={stats.servedBytes} data-testid="donate-served">
          {formatBytes(stats.servedBytes)}
        </Stat>
        <Stat
          label="Served, last 24 h"
          value={stats.servedBytes24h}
          data-testid="donate-served-24h"
          hint={dailyCap > 0 ? `of ${formatBytes(dailyCap)} allowed` : 'no daily cap'}
        >
          {formatBytes(stats.servedBytes24h)}
        </Stat>
        <Stat label="Peers" value={stats.peers} data-testid="donate-peers">
          {stats.peers}
        </Stat>
        <Stat
          label="Cached"
          value={stats.cachedBytes}
          data-testid="donate-cached-bytes"
          hint={
            <span data-testid="donate-cached-roots" data-value={stats.cachedRoots}>{`${stats.cachedRoots} ${stats.cachedRoots === 1 ? 'file' : 'files'}`}</span>
          }
        >
          {formatBytes(stats.cachedBytes)}
        </Stat>
      </dl>
      {dailyCap > 0 && <ProgressBar data-testid="donate-daily-progress" label="Daily upload used" value={(stats.servedBytes24h / dailyCap) * 100} />}
    </div>
  )
}
