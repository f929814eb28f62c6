// The browser build of @konbini/browser-node (export condition `browser`): the isomorphic client
// plus the tab's light node. Nothing here imports Node built-ins.
export * from '../index.ts'
export * from './block-cache.ts'
export * from './browser-download.ts'
export * from './donor.ts'
export * from './errors.ts'
export * from './konbini.ts'
export * from './libp2p.ts'
