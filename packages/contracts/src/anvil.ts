import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { BaseError } from '@konbini/protocol'

/** A local anvil chain on 127.0.0.1. */
/** Anvil's default account 0: unlocked by anvil, so a page's wallet signs as it through the chain's RPC (a devnet's portal wallet). */
export const ANVIL_ACCOUNT_0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as const

export interface LocalChain {
  rpcUrl: string
  chainId: number
  process: ChildProcess
  stop(): Promise<void>
}

export interface StartAnvilOptions {
  /** Default 0: a free port, read back from anvil's output. */
  port?: number
  /** Default 31337 (the devnet's). */
  chainId?: number
  /** Seconds between blocks; default: a block per transaction. */
  blockTime?: number
  /** Load a state written by `--dump-state` (a pre-deployed chain). */
  loadState?: string
  /** Write the chain's state here on exit. */
  dumpState?: string
  /** Load the chain's state from this file when it exists, and keep writing it there (every `stateIntervalSeconds` and on exit): a chain that outlives its process. */
  state?: string
  /** How often `state` is written (seconds, default 2). */
  stateIntervalSeconds?: number
  /** Give up waiting for anvil after this long (ms, default 15 s). */
  timeoutMs?: number
}

export class AnvilStartError extends BaseError {
  override name = 'AnvilStartError' as const
  constructor({ reason, output }: { reason: string; output: string }) {
    super(`The local chain (anvil) did not start: ${reason}.`, { details: output.slice(-500) })
  }
}

/** The anvil binary of this platform, from the npm package `@foundry-rs/anvil-<os>-<arch>`. */
export function anvilPath(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const require = createRequire(import.meta.url)
  const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)
  return join(dirname(pkg), 'bin', 'anvil')
}

/**
 * Starts anvil (from npm: no download) listening on 127.0.0.1 only, and resolves once it accepts RPC.
 * @example const chain = await startAnvil(); …; await chain.stop()
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<LocalChain> {
  const chainId = options.chainId ?? 31337
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--chain-id', String(chainId)]
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime))
  if (options.loadState !== undefined) args.push('--load-state', options.loadState)
  if (options.dumpState !== undefined) args.push('--dump-state', options.dumpState)
  // not --preserve-historical-states: after 400 transactions it wrote 44 MB every 2 s (13 % of a core idle) against 1.5 MB
  if (options.state !== undefined) args.push('--state', options.state, '--state-interval', String(options.stateIntervalSeconds ?? 2))
  // through a guard that ends anvil when the process that started it dies, even by kill -9
  const guard = fileURLToPath(new URL('../bin/exit-with-parent.mjs', import.meta.url))
  const child = spawn(process.execPath, [guard, anvilPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const rpcUrl = await new Promise<string>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(
      () => fail(new AnvilStartError({ reason: `no answer within ${options.timeoutMs ?? 15_000} ms`, output })),
      options.timeoutMs ?? 15_000,
    )
    const fail = (err: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(err)
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const listening = /Listening on (127\.0\.0\.1:\d+)/.exec(output)
      if (listening) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        // keep draining: a full pipe would block anvil
        child.stdout?.resume()
        resolve(`http://${listening[1]}`)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('error', fail)
    child.once('exit', (code) => fail(new AnvilStartError({ reason: `it exited (${code}) before listening`, output })))
  })
  child.removeAllListeners('exit')
  return {
    rpcUrl,
    chainId,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
