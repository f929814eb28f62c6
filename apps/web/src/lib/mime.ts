export { mimeFromName } from '@konbini/protocol'

/** How the portal can show a file in the page. */
export type PreviewKind = 'image' | 'video' | 'audio' | 'text'

/**
 * The preview for a MIME type, or `undefined` when there is none. HTML and SVG show as text (never rendered).
 * @example previewKind('video/mp4') // 'video'
 */
export function previewKind(mime: string): PreviewKind | undefined {
  if (mime === 'image/svg+xml') return 'text'
  const [major] = mime.split('/')
  if (major === 'image' || major === 'video' || major === 'audio' || major === 'text') return major
  if (mime === 'application/json' || mime === 'application/xml') return 'text'
  return undefined
}
