/**
 * The download scheduler's policy in numbers (see docs/ARCHITECTURE.md, "Download scheduling").
 * Times are milliseconds per 1 MiB block, the unixfs-v1-2025 chunk.
 */

/** Block time assumed before anything was measured in this download (≈ 50 MiB/s): optimistic, so every provider gets tried. */
export const BLOCK_MS_PRIOR = 20

/** A provider's block time is the mean of its last this many gaps between blocks. */
export const RATE_SAMPLES = 8

/** Wants a provider gets before it has shown a rate: small work first. */
export const INITIAL_WINDOW = 2

/** A provider's window covers this much of its measured time, plus one want in reserve. */
export const WINDOW_TARGET_MS = 400

/** Most wants one provider may have in flight. */
export const MAX_WINDOW = 16

/**
 * A provider silent for SILENCE_FACTOR × its block time plus SILENCE_SLACK_MS is assumed to need
 * twice its silence: the margin keeps bursty delivery (WebRTC) and a busy event loop (a loaded
 * machine, a tab in the background) from looking like a slow provider.
 */
export const SILENCE_FACTOR = 2
export const SILENCE_SLACK_MS = 300

/** An idle provider's measured block time fades toward the prior with this half-life (ms), so it is asked again. */
export const ESTIMATE_HALF_LIFE_MS = 1000

/**
 * Fast start: until a light peer has sent its first block, full nodes carry one want at a time
 * (the first block from the nearest relay), for at most this long (ms); a cold WebRTC connection
 * can take seconds to warm up, and then the full nodes carry what they must meanwhile.
 */
export const STARTUP_GRACE_MS = 1500

/** A want already being sent is asked of a second provider when that one would beat it by this factor… */
export const HEDGE_FACTOR = 1.5
/** …plus this slack (ms), so that noise does not duplicate blocks. */
export const HEDGE_SLACK_MS = 25

/** A want still queued behind others at a provider moves to one that would beat it by this factor… */
export const MOVE_FACTOR = 1.2
/**
 * …and by this many ms: a move is not free — the provider may already be sending the want (a
 * libp2p node writes the next block while the last is on the wire; an HTTP node serves every
 * request at once), and the bytes it sent are then paid for and thrown away. Between fast
 * providers whose queues differ by a few blocks (tens of ms) nothing moves; a stalled or capped
 * provider's queue (hundreds of ms and more) still does.
 */
export const MOVE_SLACK_MS = 500

/** Most providers one want is asked of at once. */
export const MAX_ATTEMPTS = 3

/** How often silent providers are looked at while wants are in flight. */
export const TICK_MS = 25

/** With wants pending and no block from any provider for this long, the download fails. */
export const IDLE_TIMEOUT_MS = 60_000

/** Blocks smaller than this (a root, a directory) say more about latency than rate: not sampled. */
export const SMALL_BLOCK = 256 * 1024
