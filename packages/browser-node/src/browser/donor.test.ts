import { describe, expect, test } from 'vitest'
import { isTabDialable } from './donor.ts'

const relay = '12D3KooWQReJb5BeQ9hyCaKDUoJg2ZrprhE27xcUwUvRNWUhtHh8'
const self = '12D3KooWPetv6H3KjuydS8wvoq9H7xH5hUiZqmcWt6gzXnJFzKDa'

describe('isTabDialable', () => {
  test('default: a circuit over a WebSocket relay leg, then WebRTC, is dialable from a page', () => {
    expect(isTabDialable(`/ip4/127.0.0.1/tcp/7301/ws/p2p/${relay}/p2p-circuit/webrtc/p2p/${self}`)).toBe(true)
    expect(isTabDialable(`/dns4/relay.example/tcp/443/tls/ws/p2p/${relay}/p2p-circuit/webrtc/p2p/${self}`)).toBe(true)
    expect(isTabDialable(`/dns4/relay.example/tcp/443/wss/p2p/${relay}/p2p-circuit/webrtc/p2p/${self}`)).toBe(true)
  })

  test('behavior: a TCP relay leg, a bare circuit or a non-circuit address is not', () => {
    // the reservation a tab holds shows up under every relay address, TCP included: a page cannot dial TCP
    expect(isTabDialable(`/ip4/127.0.0.1/tcp/7201/p2p/${relay}/p2p-circuit/webrtc/p2p/${self}`)).toBe(false)
    expect(isTabDialable(`/ip4/127.0.0.1/tcp/7301/ws/p2p/${relay}/p2p-circuit/p2p/${self}`)).toBe(false)
    expect(isTabDialable(`/ip4/127.0.0.1/tcp/7301/ws/p2p/${relay}`)).toBe(false)
  })
})
