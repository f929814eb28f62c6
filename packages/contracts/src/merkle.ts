import { type Address, concat, encodeAbiParameters, type Hex, keccak256, toBytes } from 'viem'

/** The root the contracts start with and hold while a tree has no leaf: keccak256("konbini:empty-tree"). */
export const EMPTY_TREE_ROOT: Hex = keccak256(toBytes('konbini:empty-tree'))

/** One leaf of a cumulative tree: an account and its amount in all epochs so far (token units). */
export interface CumulativeEntry {
  account: Address
  amount: bigint
}

/** OpenZeppelin's standard leaf: keccak256(bytes.concat(keccak256(abi.encode(account, amount)))) — the double hash keeps a leaf from passing for an inner node. */
export function leafHash(account: Address, amount: bigint): Hex {
  return keccak256(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [account, amount])))
}

/** Keccak of the pair in ascending order, as OpenZeppelin's `MerkleProof` hashes (no proof needs left/right flags). */
function hashPair(a: Hex, b: Hex): Hex {
  return a < b ? keccak256(concat([a, b])) : keccak256(concat([b, a]))
}

/**
 * A Merkle tree over cumulative entries that `Settlement.claim` and `Credit.withdraw` verify.
 * Leaves are sorted by hash (the same entries give the same root in any order); an odd node at
 * the end of a level moves up unpaired.
 * @example const tree = new CumulativeTree(entries); await settlement.write.claim([a, amount, tree.proof(a)])
 */
export class CumulativeTree {
  readonly root: Hex
  private readonly levels: Hex[][]
  private readonly index = new Map<string, { leaf: Hex; amount: bigint }>()

  constructor(entries: readonly CumulativeEntry[]) {
    if (entries.length === 0) throw new RangeError('a tree needs at least one entry')
    for (const e of entries) {
      const key = e.account.toLowerCase()
      if (this.index.has(key)) throw new RangeError(`${e.account} appears twice`)
      this.index.set(key, { leaf: leafHash(e.account, e.amount), amount: e.amount })
    }
    let level = [...this.index.values()].map((v) => v.leaf).sort()
    this.levels = [level]
    while (level.length > 1) {
      const next: Hex[] = []
      for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? hashPair(level[i] as Hex, level[i + 1] as Hex) : (level[i] as Hex))
      this.levels.push(next)
      level = next
    }
    this.root = level[0] as Hex
  }

  /** The amount the tree holds for `account`, if any. */
  amountOf(account: Address): bigint | undefined {
    return this.index.get(account.toLowerCase())?.amount
  }

  /** The sibling path from `account`'s leaf to the root. */
  proof(account: Address): Hex[] {
    const entry = this.index.get(account.toLowerCase())
    if (entry === undefined) throw new RangeError(`${account} is not in the tree`)
    const path: Hex[] = []
    let at = (this.levels[0] as Hex[]).indexOf(entry.leaf)
    for (const level of this.levels.slice(0, -1)) {
      const sibling = at % 2 === 0 ? at + 1 : at - 1
      if (sibling < level.length) path.push(level[sibling] as Hex)
      at = Math.floor(at / 2)
    }
    return path
  }
}
