/** libp2p protocol ids, versioned. */
export const BLOCKS_PROTOCOL = '/konbini/blocks/1.0.0'

/** unixfs-v1-2025 (IPIP-499) chunk size. */
export const CHUNK_SIZE = 1024 * 1024
/** Largest block a node accepts or serves: a full chunk or a dag-pb node of 1024 links, with room. */
export const MAX_BLOCK_SIZE = 2 * 1024 * 1024
/** Largest single framed message on a Konbini stream: a block plus its CID and header. */
export const MAX_MESSAGE_SIZE = MAX_BLOCK_SIZE + 1024
/** Most CIDs one want-list may carry. */
export const MAX_WANTLIST_SIZE = 256
/** Most wants one block-exchange session may have waiting at a provider: a client asks again as blocks arrive; more ends the session (InvalidMessageError). */
export const MAX_QUEUED_WANTS = 1024
/** A consumer signs a cumulative receipt to a provider every this many bytes received from it (and when it finishes). */
export const RECEIPT_INTERVAL_BYTES = 8 * 1024 * 1024
/**
 * A provider sends at most this many bytes of a paid ticket beyond its latest valid receipt, then
 * waits for one. It must exceed what is legitimately unsigned at any moment: a consumer's window
 * of wants (16 blocks), the 4 MiB before the next receipt is due, and what is sent during a
 * receipt's round trip, which grows with a busy consumer's event loop (p99 lag 100-160 ms at
 * ~120 MB/s in bench accounting_overhead). At 32 MiB providers still held back blocks 40-75
 * times per bench run; at 64 MiB none did. It is also what a provider risks per ticket with a
 * consumer that never signs.
 */
export const MAX_UNSIGNED_BYTES = 64 * 1024 * 1024
/** How long a provider waits for an overdue receipt before it ends the session (ReceiptsOverdueError). */
export const RECEIPT_WAIT_MS = 15_000
/** Most receipts one `POST /v1/receipts` carries. */
export const MAX_RECEIPTS_PER_POST = 256
/** The address that pays for an unpaid ticket (a network without a chain, a donor's cache fill). */
export const NO_PAYER = '0x0000000000000000000000000000000000000000'
/** Largest JSON body the control plane reads. */
export const MAX_JSON_BODY = 256 * 1024
/** Default number of replicas for an upload. */
export const DEFAULT_REPLICAS = 3
/** Longest UTF-8 name (file or folder entry) in bytes. */
export const MAX_NAME_BYTES = 255
/** The EIP-712 domain name and version. */
export const EIP712_DOMAIN_NAME = 'Konbini'
export const EIP712_DOMAIN_VERSION = '1'
/** Chain id used by the local devnet (anvil's default). */
export const DEVNET_CHAIN_ID = 31337
/** HTTP header that carries a ticket (base64url JSON). */
export const TICKET_HEADER = 'x-konbini-ticket'
/**
 * HTTP header of a want request (`POST /v1/blocks`) that carries the consumer's latest signed
 * receipt for that provider (base64url JSON): receipts ride the block exchange's own requests
 * instead of a request of their own.
 */
export const RECEIPT_HEADER = 'x-konbini-receipt'
/** Marks an upload request body as one part of a larger upload: blocks only, no End frame (browsers cannot stream one body over HTTP/1.1). */
export const PART_HEADER = 'x-konbini-part'
