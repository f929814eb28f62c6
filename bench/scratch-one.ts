import { ttfbVsBlockFetch } from './ttfb-vs-block-fetch.ts'
import { formatTable } from './harness.ts'
const t = performance.now()
const r = await ttfbVsBlockFetch.run()
console.log(formatTable(r))
console.log(JSON.stringify(r, null, 1))
console.log('s', (performance.now() - t) / 1000)
