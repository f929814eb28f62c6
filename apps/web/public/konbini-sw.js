/*
 * Konbini streaming Service Worker (scope `/`), served as is.
 *
 * Pages do the network work (WebRTC exists only on a page's main thread); this worker bridges their
 * bytes to the browser's download manager (`/konbini-sw/save/{id}/{name}`) and to media elements
 * (`/konbini-sw/file/{root}/{name}?size=N&type=mime`, with HTTP Range), pulling one chunk at a
 * time over a MessagePort so no one holds a whole file in memory. The message protocol is
 * documented in apps/web/src/lib/sw-messages.ts; only its constants are repeated here.
 */

const SAVE_PREFIX = '/konbini-sw/save/'
const FILE_PREFIX = '/konbini-sw/file/'
/** A registered save not fetched within this time is dropped. */
const SAVE_TTL_MS = 60_000
/** How long a page may take to open a root before a range request fails. */
const READY_TIMEOUT_MS = 60_000
/** How often a pending pull checks that the page feeding it still exists. */
const CLIENT_CHECK_MS = 2_000
const PAGE_GONE = 'The page that was sending this file has closed.'

/** id → { name, size, mime, port, clientId, used } */
const saves = new Map()

self.addEventListener('install', () => {
  self.skipWaiting()
})

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim())
})

self.addEventListener('message', (event) => {
  const msg = event.data
  if (msg?.type === 'claim') {
    event.waitUntil(self.clients.claim())
    return
  }
  if (msg?.type !== 'save') return
  const port = msg.port ?? event.ports?.[0]
  if (!(port instanceof MessagePort)) return
  if (typeof msg.id !== 'string' || typeof msg.name !== 'string' || !Number.isSafeInteger(msg.size) || msg.size < 0) {
    port.postMessage({ type: 'cancel' })
    port.close()
    return
  }
  let used
  const fetched = new Promise((resolve) => {
    used = resolve
  })
  const timer = setTimeout(() => {
    if (saves.get(msg.id)?.port === port) {
      saves.delete(msg.id)
      port.postMessage({ type: 'cancel' })
      port.close()
    }
    used()
  }, SAVE_TTL_MS)
  saves.set(msg.id, {
    name: msg.name,
    size: msg.size,
    mime: typeof msg.mime === 'string' && msg.mime ? msg.mime : 'application/octet-stream',
    port,
    clientId: event.source?.id,
    used: () => {
      clearTimeout(timer)
      used()
    },
  })
  port.postMessage({ type: 'registered', id: msg.id })
  // Keeps this worker alive until the save URL is fetched.
  event.waitUntil(fetched)
})

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (url.origin !== self.location.origin) return
  if (url.pathname.startsWith(SAVE_PREFIX)) event.respondWith(answerSave(url))
  else if (url.pathname.startsWith(FILE_PREFIX)) event.respondWith(answerFile(event, url))
})

function textResponse(status, text, headers = {}) {
  return new Response(`${text}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers } })
}

function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** `attachment; filename="ascii"; filename*=UTF-8''utf8` (RFC 6266). */
function disposition(kind, name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${utf8}`
}

/**
 * Reads messages from a page's port one at a time; fails when the port closes or the page is gone.
 * `next()` resolves with the next message.
 */
function portReader(port, clientId) {
  const queue = []
  let waiter
  let failure
  const fail = (err) => {
    if (failure) return
    failure = err
    waiter?.reject(err)
    waiter = undefined
  }
  port.onmessage = (event) => {
    if (waiter) {
      waiter.resolve(event.data)
      waiter = undefined
    } else queue.push(event.data)
  }
  // Chromium fires `close` on a port whose other end's document went away.
  port.addEventListener('close', () => fail(new Error(PAGE_GONE)))
  return {
    send: (msg) => port.postMessage(msg),
    close: () => {
      port.onmessage = null
      port.close()
    },
    next(timeoutMs) {
      if (queue.length > 0) return Promise.resolve(queue.shift())
      if (failure) return Promise.reject(failure)
      return new Promise((resolve, reject) => {
        const check = setInterval(async () => {
          if (clientId && !(await self.clients.get(clientId))) fail(new Error(PAGE_GONE))
        }, CLIENT_CHECK_MS)
        const deadline = timeoutMs ? setTimeout(() => fail(new Error('The page did not answer in time.')), timeoutMs) : undefined
        const done = () => {
          clearInterval(check)
          clearTimeout(deadline)
        }
        waiter = {
          resolve: (v) => {
            done()
            resolve(v)
          },
          reject: (e) => {
            done()
            reject(e)
          },
        }
      })
    },
  }
}

/** A byte stream of exactly `length` bytes pulled from the page, one chunk in flight. */
function pullStream(reader, length) {
  let sent = 0
  return new ReadableStream({
    async pull(controller) {
      try {
        reader.send({ type: 'pull' })
        const msg = await reader.next()
        if (msg?.type === 'chunk' && msg.data instanceof ArrayBuffer) {
          const room = length - sent
          const bytes = new Uint8Array(msg.data, 0, Math.min(msg.data.byteLength, room))
          sent += bytes.byteLength
          if (bytes.byteLength > 0) controller.enqueue(bytes)
          if (sent === length) {
            // One last pull lets the page finish cleanly with `end`; more bytes than asked for would
            // break Content-Length, so the page is stopped instead.
            let last
            if (msg.data.byteLength === bytes.byteLength) {
              reader.send({ type: 'pull' })
              last = await reader.next()
            }
            if (last?.type !== 'end') reader.send({ type: 'cancel' })
            controller.close()
            reader.close()
          }
          return
        }
        if (msg?.type === 'end') {
          if (sent !== length) throw new Error(`The file ended after ${sent} of ${length} bytes.`)
          controller.close()
          reader.close()
          return
        }
        throw new Error(msg?.type === 'error' && typeof msg.message === 'string' ? msg.message : 'The page sent an unexpected message.')
      } catch (err) {
        controller.error(err)
        reader.close()
      }
    },
    cancel() {
      reader.send({ type: 'cancel' })
      reader.close()
    },
  })
}

async function answerSave(url) {
  const [rawId] = url.pathname.slice(SAVE_PREFIX.length).split('/')
  const id = decodeSegment(rawId ?? '')
  const save = id && saves.get(id)
  if (!save) return textResponse(404, 'This download link has expired or was already used; press Save again.')
  saves.delete(id)
  save.used()
  const reader = portReader(save.port, save.clientId)
  const body = save.size === 0 ? null : pullStream(reader, save.size)
  if (!body) {
    reader.send({ type: 'cancel' })
    reader.close()
  }
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': save.mime,
      'content-length': String(save.size),
      'content-disposition': disposition('attachment', save.name),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  })
}

/**
 * One `bytes=` range of a resource of `size` bytes: `{ start, end }` (inclusive), `undefined` to
 * serve it whole (no header, or several ranges, which RFC 9110 lets a server ignore), or `'bad'`.
 */
function parseRange(header, size) {
  if (!header) return undefined
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (!m) return header.includes(',') ? undefined : 'bad'
  const [, from, to] = m
  if (from === '' && to === '') return 'bad'
  if (from === '') {
    const suffix = Number(to)
    if (suffix === 0 || size === 0) return 'bad'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(from)
  if (start >= size || (to !== '' && Number(to) < start)) return 'bad'
  return { start, end: to === '' ? size - 1 : Math.min(Number(to), size - 1) }
}

/** Media types pass; script-capable ones (HTML, SVG, XML) are served as plain text; the rest as bytes. */
function safeType(type) {
  const t = (type ?? '').toLowerCase().split(';')[0].trim()
  if (/^(image\/(png|jpeg|gif|webp|avif|x-icon)|video\/[\w.+-]+|audio\/[\w.+-]+)$/.test(t)) return t
  if (t.startsWith('text/') || t === 'application/json' || t.endsWith('+xml') || t.endsWith('/xml')) return 'text/plain; charset=utf-8'
  return 'application/octet-stream'
}

/** The page that asked (a media element's document), else a window this worker controls, files page first. */
async function pickClient(event) {
  const own = event.clientId ? await self.clients.get(event.clientId) : undefined
  if (own) return own
  const windows = await self.clients.matchAll({ type: 'window' })
  return windows.find((c) => new URL(c.url).pathname.startsWith('/files')) ?? windows[0]
}

async function answerFile(event, url) {
  const [rawRoot, ...rawName] = url.pathname.slice(FILE_PREFIX.length).split('/')
  const root = decodeSegment(rawRoot ?? '')
  const name = decodeSegment(rawName.join('/')) ?? 'file'
  const size = Number(url.searchParams.get('size'))
  if (!root || !Number.isSafeInteger(size) || size < 0) return textResponse(400, 'A file URL needs a root CID and ?size=<bytes>.')
  const mime = safeType(url.searchParams.get('type'))
  const range = parseRange(event.request.headers.get('range'), size)
  if (range === 'bad') return textResponse(416, `The requested range is not within the file's ${size} bytes.`, { 'content-range': `bytes */${size}` })
  const offset = range ? range.start : 0
  const length = range ? range.end - range.start + 1 : size
  const headers = {
    'content-type': mime,
    'content-length': String(length),
    'accept-ranges': 'bytes',
    'content-disposition': disposition('inline', name),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // Anyone's bytes are served from the portal's origin: never as an active document.
    'content-security-policy': "default-src 'none'; sandbox",
  }
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`
  const status = range ? 206 : 200
  if (event.request.method === 'HEAD' || length === 0) return new Response(null, { status, headers })
  if (event.request.method !== 'GET') return textResponse(405, 'Only GET and HEAD are supported.', { allow: 'GET, HEAD' })

  const client = await pickClient(event)
  if (!client) return textResponse(503, 'Open the Konbini files page in a tab to stream this file.')
  const channel = new MessageChannel()
  const reader = portReader(channel.port1, client.id)
  client.postMessage({ type: 'range', root, offset, length, port: channel.port2 }, [channel.port2])
  let first
  try {
    first = await reader.next(READY_TIMEOUT_MS)
  } catch (err) {
    reader.close()
    return textResponse(504, err.message)
  }
  if (first?.type !== 'ready') {
    reader.close()
    const message = first?.type === 'error' && typeof first.message === 'string' ? first.message : 'The page could not open this file.'
    return textResponse(/NotFound/.test(first?.name ?? '') ? 404 : 502, message)
  }
  if (first.size !== size) {
    reader.send({ type: 'cancel' })
    reader.close()
    return textResponse(409, `The file has ${first.size} bytes, not the ${size} this URL names.`)
  }
  return new Response(pullStream(reader, length), { status, headers })
}
