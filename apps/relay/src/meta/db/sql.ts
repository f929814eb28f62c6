/**
 * The meta node's tiny query layer. SQL is written once, with `$1, $2…` placeholders, in the
 * subset SQLite and PostgreSQL share (`INSERT … ON CONFLICT (…) DO UPDATE SET x = excluded.x`
 * works in both). Integers come back as JS numbers in both dialects; JSON is stored as TEXT.
 */
export interface SqlDatabase {
  readonly dialect: 'sqlite' | 'postgres'
  /** Runs a statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it throws.
   * Calling `transaction` on the `tx` handle joins the outer transaction (no savepoint).
   */
  transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T>
  /** Closes the database. On a transaction handle it throws: the owner closes the database. */
  close(): Promise<void>
}

/** Binds `undefined` as NULL in both dialects (node:sqlite refuses `undefined`). */
export function toSqlParams(params: readonly unknown[] = []): unknown[] {
  return params.map((value) => (value === undefined ? null : value))
}
