import pg from 'pg'
import { type SqlDatabase, toSqlParams } from './sql.ts'

/** Options for {@link openPostgres}. */
export interface PostgresInit {
  /** Most connections the pool opens (default 10). */
  max?: number
  /** Told about errors on idle pooled connections (e.g. the server restarted); they are dropped. */
  onError?: (err: Error) => void
}

/** Both int8 (BIGINT, COUNT) and NUMERIC (SUM of BIGINT) come back as JS numbers, as in SQLite. */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return parseSafeInteger
    if (oid === pg.types.builtins.NUMERIC) return (value: string) => Number(value)
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format)
  },
} as pg.CustomTypesConfig

function parseSafeInteger(value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new RangeError(`Integer ${value} does not fit in a JS number.`)
  return n
}

/**
 * Opens a PostgreSQL connection pool. Transactions run on one pooled client.
 *
 * @example
 * const db = await openPostgres('postgres://konbini@127.0.0.1:5432/konbini')
 * const [row] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM nodes')
 */
export async function openPostgres(url: string, init: PostgresInit = {}): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: init.max ?? 10, types: typeParsers })
  // Without a listener an idle client's error would crash the process.
  pool.on('error', (err) => init.onError?.(err))
  // Fail at open, not at the first request, when the URL is wrong or the server is down.
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end()
    throw err
  }

  return {
    dialect: 'postgres',
    query: (sql, params) => queryOn(pool, sql, params),
    run: (sql, params) => runOn(pool, sql, params),
    async transaction(fn) {
      const client = await pool.connect()
      let broken: Error | undefined
      try {
        await client.query('BEGIN')
        const result = await fn(clientHandle(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          broken = rollbackErr
        })
        throw err
      } finally {
        // A client whose ROLLBACK failed is in an unknown state: destroy it instead of reusing it.
        client.release(broken)
      }
    },
    close: () => pool.end(),
  }
}

type Queryable = Pick<pg.Pool, 'query'>

async function queryOn<T>(on: Queryable, sql: string, params?: readonly unknown[]): Promise<T[]> {
  const result = await on.query(sql, toSqlParams(params))
  return result.rows as T[]
}

async function runOn(on: Queryable, sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
  const result = await on.query(sql, toSqlParams(params))
  return { changes: result.rowCount ?? 0 }
}

function clientHandle(client: pg.PoolClient): SqlDatabase {
  const handle: SqlDatabase = {
    dialect: 'postgres',
    query: (sql, params) => queryOn(client, sql, params),
    run: (sql, params) => runOn(client, sql, params),
    transaction: (fn) => fn(handle),
    async close() {
      throw new TypeError('close() called on a transaction handle; close the database instead.')
    },
  }
  return handle
}
