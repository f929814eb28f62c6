export { ANVIL_ACCOUNT_0, AnvilStartError, anvilPath, type LocalChain, type StartAnvilOptions, startAnvil } from './anvil.ts'
export * from './artifacts.ts'
export { type ContractAddresses, DEPLOY_DEFAULTS, type DeployInit, deployKonbini } from './deploy.ts'
export { type CumulativeEntry, CumulativeTree, EMPTY_TREE_ROOT, leafHash } from './merkle.ts'
