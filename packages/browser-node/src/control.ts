/**
 * The control plane alone — the meta-node client and the owner-request signer — without the data
 * plane's libp2p: what a server (the portal's) or a wallet page needs to talk to meta nodes.
 */
export { MetaClient, type MetaClientInit } from './meta-client.ts'
export { signOwnerRequest } from './owner.ts'
