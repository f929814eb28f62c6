import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test, vi } from 'vitest'

const konbini = fileURLToPath(new URL('../bin/konbini.mjs', import.meta.url))

/** Every process's parent, from /proc (Linux), skipping zombies: a zombie has exited. */
async function processTable(): Promise<Map<number, number>> {
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (state === undefined || state === 'Z' || state === 'X') continue
    parents.set(Number(entry), Number(ppid))
  }
  return parents
}

/** The pids below `root`, transitively. */
async function descendants(root: number): Promise<number[]> {
  const table = await processTable()
  const found: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    const parent = queue.shift() as number
    for (const [pid, ppid] of table)
      if (ppid === parent) {
        found.push(pid)
        queue.push(pid)
      }
  }
  return found
}

/** The child of `launcher` that runs the CLI (`…/src/cli.ts`). */
async function cliOf(launcher: number): Promise<number> {
  for (const pid of await descendants(launcher)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes('cli.ts')) return pid
  }
  throw new Error('no CLI process under the launcher')
}

describe('a devnet does not outlive its parent', () => {
  let dir: string | undefined
  let parent: ChildProcess | undefined
  afterAll(async () => {
    parent?.kill('SIGKILL')
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  test('behavior: kill -9 of the process that started the devnet (chain, meta, nodes) leaves none of its processes, nor its launcher, after 10 s', async () => {
    dir = await mkdtemp(join(tmpdir(), 'konbini-orphans-'))
    parent = spawn(process.execPath, [konbini, 'devnet', '--no-web', '--nodes', '2', '--base-port', '0', '--data', join(dir, 'data'), '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    parent.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
    })
    parent.stderr?.resume()
    // the devnet prints its devnet.json once everything is up
    await vi.waitFor(() => expect(out).toContain('"metaUrls"'), { timeout: 90_000, interval: 200 })
    // its secrets are its owner's alone: devnet.json (the dev key) and every key file
    const data = join(dir, 'data')
    const secrets = [join(data, 'devnet.json'), ...(await readdir(data, { recursive: true })).filter((f) => f.endsWith('.key')).map((f) => join(data, f))]
    expect(secrets.length).toBeGreaterThanOrEqual(4)
    for (const file of secrets) expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600')
    const pids = await descendants(parent.pid as number)
    // the CLI under Node 24, anvil (and its guard), the meta node, two resource nodes
    expect(pids.length).toBeGreaterThanOrEqual(5)
    // the process that started the devnet's processes: the CLI (`konbini.mjs` runs it under Node 24);
    // killed without a chance to stop them, they must notice on their own
    const cli = await cliOf(parent.pid as number)
    process.kill(cli, 'SIGKILL')
    await vi.waitFor(
      async () => {
        const table = await processTable()
        expect([parent?.pid, ...pids].filter((pid) => table.has(pid as number))).toEqual([])
      },
      { timeout: 10_000, interval: 250 },
    )
  }, 120_000)
})
