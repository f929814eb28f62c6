import { existsSync } from 'node:fs'
import { execFile, execFileSync } from 'node:child_process'
import { access, chown, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort } from '../src/free-port.ts'

const exec = promisify(execFile)
const FALLBACK_BIN = '/usr/lib/postgresql/15/bin'
/** util-linux's runuser lives in sbin, which a non-login PATH may lack. */
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => existsSync(p)) ?? 'runuser'

/** A throwaway PostgreSQL cluster on 127.0.0.1. */
export interface TestPostgres {
  /** URL of its `postgres` database, as superuser `postgres` with trust auth. */
  url: string
  /** Stops the server (`pg_ctl stop -m fast`) and deletes its directory. */
  stop(): Promise<void>
}

/**
 * Starts a PostgreSQL cluster in a temp dir on a free port, running the server binaries as the
 * `postgres` user when this process is root (they refuse root). Returns undefined (with a note)
 * when the binaries are missing, except under `CI=true`, where that is an error.
 *
 * @example
 * const pg = await startPostgres()
 * describe.skipIf(pg === undefined)('postgres', () => { … })
 */
export async function startPostgres(): Promise<TestPostgres | undefined> {
  const bin = await findBinDir()
  if (bin === undefined) {
    const note = 'PostgreSQL server binaries (initdb, pg_ctl) not found; PostgreSQL tests are skipped.'
    if (process.env.CI === 'true') throw new Error(note)
    console.warn(note)
    return undefined
  }
  const base = await mkdtemp(join(tmpdir(), 'konbini-pg-'))
  const data = join(base, 'data')
  const log = join(base, 'postgres.log')
  const asRoot = process.getuid?.() === 0
  const pgExec = (cmd: string, args: string[]) => {
    const file = join(bin, cmd)
    return asRoot ? exec(RUNUSER, ['-u', 'postgres', '--', file, ...args], { cwd: base }) : exec(file, args, { cwd: base })
  }
  try {
    if (asRoot) await chown(base, idOf('-u'), idOf('-g'))
    await pgExec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'])
    const port = await freePort()
    // Durability is not under test here: skipping fsync makes the cluster several times faster.
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`
    await pgExec('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', log, '-o', options])
    let stopped = false
    const stopNow = () => {
      if (stopped) return
      stopped = true
      const args = ['stop', '-D', data, '-m', 'immediate']
      try {
        if (asRoot) execFileSync(RUNUSER, ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' })
        else execFileSync(join(bin, 'pg_ctl'), args, { stdio: 'ignore' })
      } catch {}
    }
    // A crashed test run must not leave a server behind.
    process.once('exit', stopNow)
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        process.off('exit', stopNow)
        if (!stopped) {
          stopped = true
          await pgExec('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w'])
        }
        await rm(base, { recursive: true, force: true })
      },
    }
  } catch (err) {
    const tail = await readFile(log, 'utf8').catch(() => '')
    await rm(base, { recursive: true, force: true })
    throw new Error(`Could not start PostgreSQL: ${(err as Error).message}\n${tail.slice(-2000)}`, { cause: err })
  }
}

/**
 * Creates database `name` on the server behind `url` and returns a URL for it.
 *
 * @example
 * const url = await createDatabase(pg.url, 'meta_store_1')
 */
export async function createDatabase(url: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`"${name}" is not a plain database name.`)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  const next = new URL(url)
  next.pathname = `/${name}`
  return next.toString()
}

async function findBinDir(): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), FALLBACK_BIN]
  for (const dir of dirs) {
    try {
      await Promise.all(['initdb', 'pg_ctl', 'postgres'].map((cmd) => access(join(dir, cmd))))
      return dir
    } catch {}
  }
  return undefined
}

function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
}
