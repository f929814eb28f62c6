import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ANVIL_DEV_ACCOUNT, loadWalletConfig } from './wallet-config.ts'

let dir: string
const contracts = {
  token: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  registry: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  credit: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
  settlement: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konbini-wallet-config-'))
  const base = { metaUrls: ['http://127.0.0.1:7070'], chainId: 31337, nodes: [] }
  await writeFile(join(dir, 'chain.json'), JSON.stringify({ ...base, chain: { rpcUrl: 'http://127.0.0.1:8545', chainId: 31337, contracts } }))
  await writeFile(join(dir, 'no-chain.json'), JSON.stringify(base))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const env = (file: string) => ({ metaUrls: ['http://127.0.0.1:7071'], devKey: undefined, chainId: 31337, devnetFile: join(dir, file) })

describe('loadWalletConfig', () => {
  test("default: the devnet's chain, anvil's dev account and the ABI entries the pages call", async () => {
    const config = await loadWalletConfig(env('chain.json'))
    if (config.state !== 'ok') throw new Error(config.reason)
    expect(config.metaUrls).toEqual(['http://127.0.0.1:7071'])
    expect(config.chain).toMatchObject({ rpcUrl: 'http://127.0.0.1:8545', chainId: 31337, contracts, devAccount: ANVIL_DEV_ACCOUNT })
    const functions = config.chain.abi.settlement.filter((i) => i.type === 'function').map((i) => i.name)
    expect(functions.sort()).toEqual(['claim', 'claimed', 'emissionPerEpoch'])
    expect(config.chain.abi.settlement.some((i) => i.type === 'error' && i.name === 'NothingToClaim')).toBe(true)
    expect(config.chain.abi.token.map((i) => i.name).sort()).toEqual(['balanceOf', 'decimals', 'symbol'])
    // plain data: it crosses from the server to the page as props
    expect(JSON.parse(JSON.stringify(config))).toEqual(config)
  })

  test('behavior: no chain in the devnet file, or no devnet file, says how to get one', async () => {
    for (const file of ['no-chain.json', 'absent.json']) {
      const config = await loadWalletConfig(env(file))
      expect(config).toMatchObject({ state: 'missing', reason: expect.stringMatching(/npm start/) })
    }
  })
})
