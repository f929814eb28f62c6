import { parseArgs } from 'node:util'
import type { GlobalFlags } from './cli/context.ts'
import { balanceCommand, prepayCommand } from './cli/chain-commands.ts'
import { withdrawCommand } from './cli/credit-commands.ts'
import { denyCommand, denylistCommand } from './cli/denylist-commands.ts'
import { startDevnet } from './cli/devnet.ts'
import { registerCommand, unstakeCommand } from './cli/operator-commands.ts'
import { lsCommand, nodesCommand, rmCommand, statCommand } from './cli/owner-commands.ts'
import { describeError, print } from './cli/output.ts'
import { claimCommand, epochCommand, rewardsCommand } from './cli/reward-commands.ts'
import { getCommand, putCommand } from './cli/transfer-commands.ts'
import { runRelay } from './main.ts'

const usage = `konbini — decentralized storage and CDN

Usage:
  konbini devnet [--data .konbini] [--nodes 4] [--no-web] [--base-port 7070]   start a local network and the portal (--base-port 0: free ports)
  konbini node --roles resource,meta --data DIR [options]   run one relay process
  konbini put <file-or-folder> [--replicas 3] [--public]    upload; done when R nodes hold it (--public: gateways serve it, browser peers cache it)
  konbini get <cid> [-o <path>]                             download, verifying every block
  konbini ls                                                your files
  konbini stat <cid>                                        a file and its holders
  konbini rm <cid>                                          drop your pin
  konbini nodes                                             the nodes and what they measured
  konbini deny <cid> / konbini allow <cid>                  (meta admins) keep a root off light peers, or allow it again
  konbini denylist                                          the roots light peers must not cache or serve
  konbini prepay <amount>                                   deposit KBT as traffic credit
  konbini balance                                           your tokens and traffic credit
  konbini withdraw [amount]                                 request back unspent credit (default: all); run again after the delay to receive it
  konbini epoch                                             the open epoch and the last report settled on chain
  konbini rewards [address] [--data DIR]                    earned, claimed and claimable rewards (default: you, or DIR's operator)
  konbini claim [--data DIR]                                pay yourself (or DIR's operator) the settled rewards not claimed yet
  konbini register --data DIR [--stake 1000]                stake and register the node whose keys are in DIR (its operator pays)
  konbini unstake --data DIR                                start unbonding that node's stake, or withdraw it once unbonded

Every command takes --json (one JSON document on stdout), --meta <url,url> and --key <0x…>.`

const options = {
  json: { type: 'boolean', default: false },
  meta: { type: 'string' },
  key: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  output: { type: 'string', short: 'o' },
  replicas: { type: 'string' },
  public: { type: 'boolean', default: false },
  data: { type: 'string' },
  nodes: { type: 'string' },
  'no-web': { type: 'boolean', default: false },
  'base-port': { type: 'string' },
  roles: { type: 'string' },
  'http-port': { type: 'string' },
  'p2p-port': { type: 'string' },
  'ws-port': { type: 'string' },
  trust: { type: 'string' },
  region: { type: 'string' },
  'egress-bps': { type: 'string' },
  'database-url': { type: 'string' },
  stake: { type: 'string' },
} as const

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive whole number, not "${value}".`)
  return n
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  const [command, ...rest] = positionals
  const flags: GlobalFlags = { json: values.json, meta: values.meta, key: values.key }
  const needData = () => {
    if (values.data === undefined) throw new Error(`konbini ${command} needs --data <the node's data directory>.`)
    return values.data
  }
  const need = (what: string) => {
    const value = rest[0]
    if (value === undefined) throw new Error(`konbini ${command} needs ${what}.`)
    return value
  }
  switch (command) {
    case 'put':
      return putCommand(flags, {
        path: need('a file or folder'),
        ...(values.replicas && { replicas: positiveInt(values.replicas, 'replicas') }),
        ...(values.public && { public: true }),
      })
    case 'get':
      return getCommand(flags, { cid: need('a CID'), ...(values.output !== undefined && { output: values.output }) })
    case 'ls':
      return lsCommand(flags)
    case 'stat':
      return statCommand(flags, need('a CID'))
    case 'rm':
      return rmCommand(flags, need('a CID'))
    case 'nodes':
      return nodesCommand(flags)
    case 'deny':
    case 'allow':
      return denyCommand(flags, command, need('a CID'))
    case 'denylist':
      return denylistCommand(flags)
    case 'prepay':
      return prepayCommand(flags, need('an amount of KBT'))
    case 'balance':
      return balanceCommand(flags)
    case 'withdraw':
      return withdrawCommand(flags, rest[0])
    case 'epoch':
      return epochCommand(flags)
    case 'rewards':
      return rewardsCommand(flags, { address: rest[0], dataDir: values.data })
    case 'claim':
      return claimCommand(flags, values.data)
    case 'register':
      return registerCommand(flags, needData(), values.stake)
    case 'unstake':
      return unstakeCommand(flags, needData())
    case 'node':
      return runRelay({
        ...process.env,
        ...(values.roles && { KONBINI_ROLES: values.roles }),
        ...(values.data && { KONBINI_DATA_DIR: values.data }),
        ...(values['http-port'] && { KONBINI_HTTP_PORT: values['http-port'] }),
        ...(values['p2p-port'] && { KONBINI_P2P_PORT: values['p2p-port'] }),
        ...(values['ws-port'] && { KONBINI_WS_PORT: values['ws-port'] }),
        ...(values.meta && { KONBINI_META_URLS: values.meta }),
        ...(values.trust && { KONBINI_TRUSTED_METAS: values.trust }),
        ...(values.region && { KONBINI_REGION: values.region }),
        ...(values['egress-bps'] && { KONBINI_EGRESS_BPS: values['egress-bps'] }),
        ...(values['database-url'] && { KONBINI_DATABASE_URL: values['database-url'] }),
      })
    case 'devnet':
      return devnet(flags, values)
    case undefined:
    case 'help':
      process.stdout.write(`${usage}\n`)
      return
    default:
      throw new Error(`Unknown command "${command}"; run konbini help.`)
  }
}

async function devnet(
  flags: GlobalFlags,
  values: { data?: string | undefined; nodes?: string | undefined; 'no-web': boolean; 'base-port'?: string | undefined },
): Promise<void> {
  const net = await startDevnet({
    dataDir: values.data ?? '.konbini',
    resources: positiveInt(values.nodes, 'nodes') ?? 4,
    web: !values['no-web'],
    // 0: every listener on a free port (a second devnet beside `npm start`, tests)
    basePort: values['base-port'] === '0' ? 0 : (positiveInt(values['base-port'], 'base-port') ?? 7070),
    chain: true,
  })
  print(flags.json, net.file, () =>
    [
      'Konbini devnet is up (Ctrl-C stops it; data stays in .konbini/).',
      `  meta:   ${net.file.metaUrls.join(', ')}`,
      ...net.file.nodes.map((n, i) => `  node${i + 1}:  ${n.httpUrl}  ${n.peerId}`),
      ...(net.file.chain
        ? [`  chain:  ${net.file.chain.rpcUrl} (anvil, chain id ${net.file.chain.chainId}; registry ${net.file.chain.contracts.registry})`]
        : []),
      ...(net.file.webUrl ? [`  portal: ${net.file.webUrl}`] : []),
      '  try:    npx konbini put <file>  then  npx konbini get <cid>',
    ].join('\n'),
  )
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  process.stderr.write('\nStopping the devnet…\n')
  await net.stop()
}

main(process.argv.slice(2)).then(
  () => {
    if (!['node', 'devnet'].includes(process.argv[2] ?? '')) process.exit(0)
  },
  (err) => {
    process.stderr.write(`konbini: ${describeError(err)}\n`)
    process.exit(1)
  },
)
