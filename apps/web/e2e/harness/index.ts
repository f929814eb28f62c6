export * from './bundle.ts'
export * from './chromium.ts'
export * from './netns.ts'
export * from './static-server.ts'
