// What the bench page offers the benches (`globalThis.bench`), with no imports, so that Node-side
// benches can type it without resolving the page's browser-only modules.

export interface BenchPageConfig {
  metaUrls: string[]
  relays: string[]
  trustedMetas: string[]
  chainId?: number
  accountKey: `0x${string}`
}

export interface DownloadResult {
  /** From before the provider request to the last byte, in the page. */
  ms: number
  bytes: number
  bytesFromPeers: number
  bytesFromNodes: number
  providers: Array<{
    peerId: string
    kind: string
    bytes: number
    blocks: number
    failures: number
    dead: boolean
    priorBps: number
    asked: number
    cancelled: number
    duplicateBytes: number
    firstByteMs: number | undefined
    measuredBps: number | undefined
  }>
  /** Why a stream to a light peer could not be opened. */
  streamErrors: string[]
}

export interface BenchPage {
  init(config: BenchPageConfig): Promise<string>
  fetch(url: string): Promise<{ ms: number; bytes: number }>
  download(root: string, only?: string[]): Promise<DownloadResult>
  donate(caps?: { storageMiB?: number; uploadKBps?: number; dailyMiB?: number }): Promise<string>
  waitForCached(root: string, timeoutMs?: number): Promise<number>
  servedBytes(): number
  hold(size: number, seed: number): number
  digest(): Promise<number>
  import(): Promise<{ ms: number; root: string; blocks: number }>
  upload(replicas: number, name: string): Promise<{ ms: number; holders: number; root: string }>
  post(url: string): Promise<number>
  rtcOffer(): Promise<RTCSessionDescriptionInit>
  rtcAnswer(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit>
  rtcAccept(answer: RTCSessionDescriptionInit): Promise<void>
  rtcExpect(total: number): Promise<void>
  rtcReceived(): Promise<number>
  rtcSend(total: number): Promise<void>
  stop(): Promise<void>
}
