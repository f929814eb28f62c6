import type { NextConfig } from 'next'

// Also set by the package scripts; this covers `npx next build` run by hand. Next must not phone home.
process.env.NEXT_TELEMETRY_DISABLED ??= '1'

const config: NextConfig = {
  // Workspace packages ship TypeScript source with `.ts` relative imports; Turbopack resolves those as-is.
  transpilePackages: ['@konbini/protocol', '@konbini/ui', '@konbini/browser-node', '@konbini/contracts'],
  poweredByHeader: false,
  // tests run their own `next dev` in another build folder: Next allows one dev server per folder,
  // so the test portal can run while `npm start`'s portal is up
  distDir: process.env.KONBINI_NEXT_DIST_DIR ?? '.next',
  reactStrictMode: true,
}

export default config
