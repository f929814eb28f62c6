import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { base32 } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'

/**
 * How many of the devnet's resource nodes (`node1`…`nodeN` under `dataDir`) hold a block on disk,
 * read straight from their block stores' files: the gateway no longer answers for blocks that are
 * not public, so a test that must know what was stored looks at the disk.
 */
export async function holdersOnDisk(dataDir: string, nodes: number, cid: string): Promise<number> {
  const key = CID.parse(cid).toV1().toString(base32)
  let held = 0
  for (let i = 1; i <= nodes; i++) {
    const file = join(dataDir, `node${i}`, 'blocks', key.slice(-3, -1), key)
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      held++
  }
  return held
}
