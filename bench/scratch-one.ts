import { uploadR3VsHttp } from './upload-r3-vs-http.ts'
import { formatTable } from './harness.ts'
const t = performance.now()
const r = await uploadR3VsHttp.run()
console.log(formatTable(r)); console.log(JSON.stringify(r, null, 1)); console.log('s', (performance.now()-t)/1000)
