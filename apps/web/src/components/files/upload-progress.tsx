import { formatBytes, ProgressBar } from '@konbini/ui'
import type { UploadProgress } from '../../lib/browser-konbini.ts'

const phaseLabel: Record<UploadProgress['phase'], string> = {
  importing: 'Importing (chunking and hashing)',
  uploading: 'Uploading',
  replicating: 'Replicating',
  done: 'Done',
}

/**
 * Percent of an upload: bytes sent, held at 99 until the meta node has every replica, then 100.
 * @example uploadPercent({ phase: 'done', ... }) // 100
 */
export function uploadPercent(p: UploadProgress): number {
  if (p.phase === 'done') return 100
  if (p.totalBytes <= 0) return 0
  return Math.min(99, Math.floor((p.sentBytes / p.totalBytes) * 100))
}

/** The upload's progress bar with its phase, bytes and replica count. */
export function UploadProgressBar({ progress, name }: { progress: UploadProgress; name: string }) {
  return (
    <ProgressBar
      data-testid="upload-progress"
      label={`Uploading ${name}`}
      value={uploadPercent(progress)}
      tone={progress.phase === 'done' ? 'green' : 'blue'}
      detail={
        <span className="flex flex-wrap gap-x-3">
          <span data-testid="upload-phase" data-phase={progress.phase}>
            {phaseLabel[progress.phase]}
          </span>
          <span>
            {formatBytes(progress.sentBytes)} of {formatBytes(progress.totalBytes)}
          </span>
          <span>
            {progress.holders} of {progress.replicas} replicas stored
          </span>
        </span>
      }
    />
  )
}
