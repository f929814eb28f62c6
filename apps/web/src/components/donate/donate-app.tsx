'use client'

import { Button, Card, Notice, Toggle } from '@konbini/ui'
import { useCallback, useEffect, useState } from 'react'
import { type BrowserKonbiniInit, type Donor, type DonorStats, getBrowserKonbini } from '../../lib/browser-konbini.ts'
import { DEFAULT_DONATE_SETTINGS, type DonateSettings, loadDonateSettings, saveDonateSettings, validateCaps } from '../../lib/donate-settings.ts'
import { currentDonor, startDonor, stopDonor } from '../../lib/donor-session.ts'
import { errorSentence } from '../../lib/shown-error.ts'
import type { WalletConfig } from '../../lib/wallet/wallet-config.ts'
import { WalletProvider } from '../wallet/wallet-provider.tsx'
import { type CapsDraft, fromDraft, toDraft } from './caps-draft.ts'
import { CapsForm } from './caps-form.tsx'
import { DonorStatsView } from './donor-stats-view.tsx'
import { EarnCard } from './earn-card.tsx'

type Status = { state: 'off' } | { state: 'starting' } | { state: 'on'; donor: Donor } | { state: 'stopping' }

/**
 * The donate page in the tab: an opt-in switch (off until turned on; the choice and caps are
 * remembered in localStorage), the caps, the donor's live numbers, and (with a chain) the wallet
 * the tab earns for. Nothing starts before opt-in.
 */
export function DonateApp({ init, wallet }: { init: BrowserKonbiniInit; wallet?: WalletConfig }) {
  const [settings, setSettings] = useState<DonateSettings>(DEFAULT_DONATE_SETTINGS)
  const [loaded, setLoaded] = useState(false)
  const [draft, setDraft] = useState<CapsDraft>(toDraft(DEFAULT_DONATE_SETTINGS.caps))
  const [status, setStatus] = useState<Status>({ state: 'off' })
  const [stats, setStats] = useState<DonorStats>()
  const [error, setError] = useState<string>()

  const run = useCallback(
    async (next: DonateSettings) => {
      setError(undefined)
      setStatus({ state: 'starting' })
      try {
        const konbini = await getBrowserKonbini(init)
        const donor = await startDonor(konbini, next.caps)
        setStatus({ state: 'on', donor })
      } catch (err) {
        setStatus({ state: 'off' })
        setError(errorSentence(err, 'Donating could not start in this tab.'))
      }
    },
    [init],
  )

  // Remembered settings are read after hydration (the server has no localStorage); a donor already
  // running in this tab (started before a page change) is picked up, else a remembered "on" resumes.
  useEffect(() => {
    const remembered = loadDonateSettings()
    setSettings(remembered)
    setDraft(toDraft(remembered.caps))
    setLoaded(true)
    const running = currentDonor()
    if (running)
      running.then(
        (donor) => setStatus({ state: 'on', donor }),
        () => setStatus({ state: 'off' }),
      )
    else if (remembered.enabled) void run(remembered)
  }, [run])

  useEffect(() => {
    if (status.state !== 'on') return
    const { donor } = status
    const update = () => setStats(donor.stats())
    donor.addEventListener('update', update)
    update()
    return () => donor.removeEventListener('update', update)
  }, [status])

  const stop = async () => {
    const next = { ...settings, enabled: false }
    setSettings(next)
    saveDonateSettings(next)
    setStatus({ state: 'stopping' })
    try {
      await stopDonor()
    } catch (err) {
      setError(errorSentence(err, 'The donor did not stop cleanly; close this tab to be sure.'))
    }
    setStats((s) => (s ? { ...s, state: 'stopped', peers: 0 } : s))
    setStatus({ state: 'off' })
  }

  const turnOn = () => {
    const checked = validateCaps(fromDraft(draft))
    if ('error' in checked) return setError(checked.error)
    const next = { enabled: true, caps: checked.caps }
    setSettings(next)
    saveDonateSettings(next)
    void run(next)
  }

  const apply = () => {
    const checked = validateCaps(fromDraft(draft))
    if ('error' in checked) return setError(checked.error)
    const next = { ...settings, caps: checked.caps }
    setSettings(next)
    saveDonateSettings(next)
    setError(undefined)
    if (status.state === 'on') void run(next)
  }

  const on = status.state === 'on' || status.state === 'starting'
  const dirty = JSON.stringify(fromDraft(draft)) !== JSON.stringify(settings.caps)
  return (
    <div className="flex flex-col gap-6" data-testid="donate-app" data-status={status.state} data-loaded={loaded}>
      <Card title="Donate this tab's spare bandwidth">
        <div className="flex flex-col gap-4">
          <p className="text-sm">
            While this switch is on, this tab caches public files it is asked to hold and serves them to other people&apos;s browsers, within the caps below,
            counting what it served. Authorize the tab for your wallet below and that traffic earns KBT, paid once the network settles it on chain. Nothing runs
            until you turn it on; Stop ends it completely.
          </p>
          <p className="text-sm font-medium" data-testid="donate-ip-warning">
            Peers that connect to this tab over WebRTC see its IP address, and it sees theirs.
          </p>
          <div className="flex flex-wrap items-center gap-4">
            <Toggle
              data-testid="donate-toggle"
              checked={on}
              disabled={!loaded || status.state === 'starting' || status.state === 'stopping'}
              onChange={(checked) => (checked ? turnOn() : void stop())}
              label={status.state === 'starting' ? 'Starting…' : status.state === 'stopping' ? 'Stopping…' : on ? 'Donating' : 'Not donating'}
            />
            {status.state === 'on' && (
              <Button variant="danger" data-testid="donate-stop" onClick={() => void stop()}>
                Stop
              </Button>
            )}
          </div>
          {error && (
            <Notice tone="error" title="Donating">
              <span data-testid="donate-error">{error}</span>
            </Notice>
          )}
        </div>
      </Card>
      {wallet?.state === 'ok' ? (
        <WalletProvider chain={wallet.chain}>
          <EarnCard
            metaUrls={wallet.metaUrls}
            chain={wallet.chain}
            protocolChainId={init.chainId ?? wallet.chain.chainId}
            peerId={status.state === 'on' ? stats?.peerId : undefined}
          />
        </WalletProvider>
      ) : wallet ? (
        <Notice title="Earning needs a chain">
          <span data-testid="earn-missing">{wallet.reason}</span>
        </Notice>
      ) : null}
      <Card title="Caps">
        <CapsForm draft={draft} onChange={setDraft} onApply={apply} dirty={dirty} />
      </Card>
      {stats && (
        <Card title="Live">
          <DonorStatsView stats={stats} caps={settings.caps} />
        </Card>
      )}
    </div>
  )
}
