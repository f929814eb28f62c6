export * from './fs-sink.ts'
export * from './fs-source.ts'
export * from './libp2p.ts'
