#!/usr/bin/env node
// Fixes a dial race in @libp2p/webrtc 6.0.33 (STACK.md, "Known race"): the answering side closes
// the `init` data channel as soon as it arrives, so on the dialer the channel can go from
// `connecting` straight to `closed` while the dialer waits only for `open` → the dial hangs until
// its timeout (~1 dial in 4). The fix waits for `open` OR `close`, and neither closes nor waits for
// the close of a channel that is already closed.
//
// Run by the root `postinstall`. Idempotent: an already patched file is left alone. Exact-text
// replacement: if a new release changed the text, it warns (never fails the install) — check
// whether the release fixed the race, then update or drop this script.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const file = join(root, 'node_modules', '@libp2p', 'webrtc', 'dist', 'src', 'private-to-private', 'initiate-connection.js')
const marker = '/* konbini: patch-webrtc init-channel race */'

const before = `        if (channel.readyState !== 'open') {
            log.trace('wait for init channel to open');
            await pEvent(channel, 'open', {
                signal
            });
        }
        log.trace('closing init channel');
        channel.close();
        // wait for init channel to close before proceeding, otherwise the channel
        // id can be reused before both sides have seen the channel close
        log.trace('waiting for init channel to close');
        await pEvent(channel, 'close', {
            signal
        });
`

const after = `        ${marker}
        // the remote closes the init channel as soon as it arrives: it may go from
        // connecting straight to closed, so wait for open or close
        if (channel.readyState !== 'open' && channel.readyState !== 'closed') {
            log.trace('wait for init channel to open or close');
            await pEvent(channel, ['open', 'close'], {
                signal
            });
        }
        if (channel.readyState !== 'closed') {
            log.trace('closing init channel');
            channel.close();
            // wait for init channel to close before proceeding, otherwise the channel
            // id can be reused before both sides have seen the channel close
            log.trace('waiting for init channel to close');
            await pEvent(channel, 'close', {
                signal
            });
        }
`

const tag = 'patch-webrtc:'
if (!existsSync(file)) {
  console.warn(`${tag} ${file} not found; nothing patched`)
} else {
  const text = readFileSync(file, 'utf8')
  if (text.includes(marker)) {
    console.log(`${tag} @libp2p/webrtc init-channel race already patched`)
  } else if (text.includes(before)) {
    writeFileSync(file, text.replace(before, after))
    console.log(`${tag} patched @libp2p/webrtc init-channel race in ${file}`)
  } else {
    console.warn(`${tag} WARNING: expected text not found in ${file}; @libp2p/webrtc changed — check whether the init-channel race is fixed upstream`)
  }
}
