import { build } from 'esbuild'

export interface BundleOptions {
  /** Extra `define`s (values are JS source, e.g. `'"x"'`). */
  define?: Record<string, string>
  /** Inline a source map, so page errors point at TypeScript lines (bigger bundle). */
  sourcemap?: boolean
  minify?: boolean
}

export interface Bundle {
  /** The ES module, ready to serve as `text/javascript`. */
  code: string
  /** Wall time of the esbuild run, ms. */
  ms: number
}

/**
 * Bundles a TypeScript entry for the browser into memory with esbuild (ESM, `browser`
 * conditions, no polyfills: libp2p needs none).
 *
 * @example
 * const { code } = await bundle(fileURLToPath(new URL('./pages/webrtc-smoke.ts', import.meta.url)))
 */
export async function bundle(entry: string, options: BundleOptions = {}): Promise<Bundle> {
  const started = performance.now()
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2023',
    conditions: ['browser'],
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis', ...options.define },
    sourcemap: options.sourcemap ? 'inline' : false,
    minify: options.minify ?? false,
    logLevel: 'silent',
  })
  const file = result.outputFiles[0]
  if (file === undefined) throw new Error(`esbuild produced no output for ${entry}`)
  return { code: file.text, ms: performance.now() - started }
}
