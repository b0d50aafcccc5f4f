import { Kysely, PostgresDialect, type Selectable, type Transaction } from 'kysely';
import pg from 'pg';
import type { DB } from './types.ts';

export type Database = Kysely<DB>;

/** Either the database or an open transaction: repositories take one so the caller decides the transaction. */
export type Executor = Kysely<DB> | Transaction<DB>;

/**
 * The selected columns of a table, typed from the generated `db/types.ts`, with the columns the database
 * keeps as plain text or JSON narrowed to what the code stores in them (a status union, a record list).
 * Repositories describe their rows this way so a migration that changes a column changes the row type too.
 */
export type Row<
  Table extends keyof DB,
  Column extends keyof Selectable<DB[Table]>,
  Narrowed extends Partial<Record<Column, unknown>> = Record<never, never>,
> = Omit<Pick<Selectable<DB[Table]>, Column>, keyof Narrowed> & Narrowed;

// int8 (counts) arrive as strings by default; every count we read fits in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

// A request waits at most this long for a connection (a free pool slot or a new one); past it, it fails
// and is answered 503 instead of hanging while PostgreSQL is unreachable or saturated.
const CONNECT_TIMEOUT_MS = 10_000;

export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: 'subscribe-flow', connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A client checked out of the pool whose connection drops (PostgreSQL restarting) emits 'error' with no
  // listener of the pool's attached, which would end the process. Its query fails with the same error
  // (answered 503), and the pool discards the client on release, so nothing more is needed here.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function createDb(pool: pg.Pool): Database {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
