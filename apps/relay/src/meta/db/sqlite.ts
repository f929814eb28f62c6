import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { type SqlDatabase, toSqlParams } from './sql.ts'

/** Options for {@link openSqlite}. */
export interface SqliteInit {
  /** How long a write waits for another process's lock, in ms (default 5000). */
  busyTimeoutMs?: number
}

/**
 * Opens (or creates) a SQLite database with Node's built-in `node:sqlite`, in WAL mode.
 *
 * One connection serves the whole process, so every top-level call and every transaction goes
 * through one queue: an `await` inside a transaction can never let another caller's statement
 * slip into it.
 *
 * @example
 * const db = await openSqlite('/var/lib/konbini/meta.db')
 * await db.query('SELECT 1 AS one')
 */
export async function openSqlite(file: string, init: SqliteInit = {}): Promise<SqlDatabase> {
  const db = new DatabaseSync(file)
  db.exec(`PRAGMA busy_timeout = ${Math.floor(init.busyTimeoutMs ?? 5000)}`)
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA foreign_keys = ON')

  const statements = new Map<string, StatementSync>()
  const prepare = (sql: string): StatementSync => {
    let stmt = statements.get(sql)
    if (stmt === undefined) {
      // `$n` and `?n` both bind the n-th positional parameter.
      stmt = db.prepare(sql.replace(/\$(\d+)/g, '?$1'))
      statements.set(sql, stmt)
    }
    return stmt
  }
  const bind = (params?: readonly unknown[]) => toSqlParams(params) as SQLInputValue[]

  const handle: SqlDatabase = {
    dialect: 'sqlite',
    async query<T>(sql: string, params?: readonly unknown[]) {
      return prepare(sql)
        .all(...bind(params))
        .map((row) => ({ ...row }) as T)
    },
    async run(sql: string, params?: readonly unknown[]) {
      return { changes: Number(prepare(sql).run(...bind(params)).changes) }
    },
    transaction: (fn) => fn(handle),
    async close() {
      throw new TypeError('close() called on a transaction handle; close the database instead.')
    },
  }

  const lock = createMutex()
  return {
    dialect: 'sqlite',
    query: (sql, params) => lock(() => handle.query(sql, params)),
    run: (sql, params) => lock(() => handle.run(sql, params)),
    transaction: (fn) =>
      lock(async () => {
        db.exec('BEGIN IMMEDIATE')
        try {
          const result = await fn(handle)
          db.exec('COMMIT')
          return result
        } catch (err) {
          if (db.isTransaction) db.exec('ROLLBACK')
          throw err
        }
      }),
    close: () =>
      lock(async () => {
        statements.clear()
        if (db.isOpen) db.close()
      }),
  }
}

/** A FIFO lock: each call starts after the previous one settled. */
function createMutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const result = tail.then(() => fn())
    tail = result.catch(() => undefined)
    return result
  }
}
