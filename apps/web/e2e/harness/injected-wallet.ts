import type { BrowserContext } from 'playwright-core'
import { createWalletClient, defineChain, type Hex, http, type TypedDataDefinition } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'

export interface InjectedWalletInit {
  /** The key the wallet signs with, held by the test process (never sent to the page). */
  account: PrivateKeyAccount
  rpcUrl: string
  chainId: number
  /** EIP-6963 name (default `Konbini Test Wallet`). */
  name?: string
}

export interface InjectedWallet {
  name: string
  /** The signing and sending requests the page made, in order (`eth_signTypedData_v4`, `eth_sendTransaction`, …). */
  requests: Array<{ method: string; params: unknown[] }>
}

type Answer = { result: unknown } | { error: { code: number; message: string } }

const ICON = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0369a1"/></svg>')}`

/**
 * Injects an EIP-6963 wallet into every page of `context`: a minimal EIP-1193 provider that
 * announces itself (`eip6963:announceProvider`, again on each `eip6963:requestProvider`), answers
 * accounts and chain id itself, routes signing and sending through a Playwright binding to a viem
 * local account in the test process, and passes every other request to the chain's RPC. Like a
 * real wallet it remembers (per origin, in localStorage) that the site was granted the account.
 *
 * @example
 * const wallet = await injectWallet(context, { account, rpcUrl, chainId })
 * await page.getByTestId('wallet-connector').click()
 */
export async function injectWallet(context: BrowserContext, init: InjectedWalletInit): Promise<InjectedWallet> {
  const name = init.name ?? 'Konbini Test Wallet'
  const chain = defineChain({
    id: init.chainId,
    name: 'devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [init.rpcUrl] } },
  })
  const client = createWalletClient({ account: init.account, chain, transport: http(init.rpcUrl) })
  const wallet: InjectedWallet = { name, requests: [] }
  const own = (address: unknown) => typeof address === 'string' && address.toLowerCase() === init.account.address.toLowerCase()

  async function handle(method: string, params: unknown[]): Promise<unknown> {
    if (method === 'eth_signTypedData_v4') {
      const [address, json] = params as [string, string]
      if (!own(address)) throw Object.assign(new Error(`this wallet holds no key for ${address}`), { code: 4100 })
      const { types, domain, primaryType, message } = JSON.parse(json) as TypedDataDefinition & { types: Record<string, unknown> }
      const { EIP712Domain: _, ...rest } = types
      return init.account.signTypedData({ domain, types: rest, primaryType, message } as TypedDataDefinition)
    }
    if (method === 'personal_sign') {
      const [data, address] = params as [Hex, string]
      if (!own(address)) throw Object.assign(new Error(`this wallet holds no key for ${address}`), { code: 4100 })
      return init.account.signMessage({ message: { raw: data } })
    }
    if (method === 'eth_sendTransaction') {
      const [tx] = params as [{ from: string; to?: Hex; data?: Hex; value?: Hex; gas?: Hex }]
      if (!own(tx.from)) throw Object.assign(new Error(`this wallet holds no key for ${tx.from}`), { code: 4100 })
      return client.sendTransaction({
        ...(tx.to && { to: tx.to }),
        ...(tx.data && { data: tx.data }),
        ...(tx.value && { value: BigInt(tx.value) }),
        ...(tx.gas && { gas: BigInt(tx.gas) }),
      })
    }
    throw Object.assign(new Error(`${method} is not supported`), { code: 4200 })
  }

  await context.exposeBinding('__konbiniTestWallet', async (_source, method: string, paramsJson: string): Promise<Answer> => {
    const params = JSON.parse(paramsJson) as unknown[]
    wallet.requests.push({ method, params })
    try {
      return { result: await handle(method, params) }
    } catch (err) {
      const e = err as { code?: unknown; shortMessage?: string; message?: string }
      return { error: { code: typeof e.code === 'number' ? e.code : -32603, message: e.shortMessage ?? e.message ?? String(err) } }
    }
  })
  await context.addInitScript(pageWallet, {
    address: init.account.address,
    chainId: init.chainId,
    rpcUrl: init.rpcUrl,
    info: { uuid: crypto.randomUUID(), name, icon: ICON, rdns: 'dev.konbini.test-wallet' },
  })
  return wallet
}

/** Runs in the page (serialized by Playwright): the provider and its EIP-6963 announcement. */
function pageWallet(init: { address: string; chainId: number; rpcUrl: string; info: { uuid: string; name: string; icon: string; rdns: string } }) {
  const AUTHORIZED = 'konbini-test-wallet:authorized'
  const bridge = (globalThis as unknown as { __konbiniTestWallet: (method: string, params: string) => Promise<Answer> }).__konbiniTestWallet
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>()
  const fail = (code: number, message: string) => Object.assign(new Error(message), { code })
  let rpcId = 0
  const provider = {
    async request({ method, params }: { method: string; params?: unknown[] }): Promise<unknown> {
      switch (method) {
        case 'eth_requestAccounts':
          localStorage.setItem(AUTHORIZED, '1')
          return [init.address]
        case 'eth_accounts':
          return localStorage.getItem(AUTHORIZED) ? [init.address] : []
        case 'eth_chainId':
          return `0x${init.chainId.toString(16)}`
        case 'net_version':
          return String(init.chainId)
        case 'wallet_requestPermissions':
          localStorage.setItem(AUTHORIZED, '1')
          return [{ parentCapability: 'eth_accounts' }]
        case 'wallet_revokePermissions':
          localStorage.removeItem(AUTHORIZED)
          return null
        case 'wallet_switchEthereumChain': {
          const wanted = Number((params?.[0] as { chainId?: string } | undefined)?.chainId)
          if (wanted === init.chainId) return null
          throw fail(4902, `chain ${wanted} is not known to this wallet`)
        }
        case 'eth_signTypedData_v4':
        case 'personal_sign':
        case 'eth_sendTransaction': {
          const answer = await bridge(method, JSON.stringify(params ?? []))
          if ('error' in answer) throw fail(answer.error.code, answer.error.message)
          return answer.result
        }
        default: {
          const res = await fetch(init.rpcUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params: params ?? [] }),
          })
          const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } }
          if (body.error) throw fail(body.error.code, body.error.message)
          return body.result
        }
      }
    },
    on(event: string, fn: (...args: unknown[]) => void) {
      if (!listeners.has(event)) listeners.set(event, new Set())
      listeners.get(event)?.add(fn)
      return provider
    },
    removeListener(event: string, fn: (...args: unknown[]) => void) {
      listeners.get(event)?.delete(fn)
      return provider
    },
  }
  const detail = Object.freeze({ info: Object.freeze({ ...init.info }), provider })
  const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail }))
  window.addEventListener('eip6963:requestProvider', announce)
  announce()
}
