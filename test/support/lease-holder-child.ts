/**
 * A worker process reduced to its lease: opens the PostgreSQL store at TWELVE_DATABASE_URL,
 * claims thread THREAD_ID as LEASE_OWNER (a long lease), waits until the store has
 * registered the owner's liveness (it does so right after the first claim), prints
 * `claimed <id>` and waits to be killed. Run by test/store-postgres-takeover.test.ts with
 * `node --import tsx`.
 */
import { writeSync } from 'node:fs';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';

const url = process.env.TWELVE_DATABASE_URL!;
const owner = process.env.LEASE_OWNER!;
const store = new PostgresStore({ url });
const claimed = await store.claim({ owner, leaseMs: 600_000, threadId: process.env.THREAD_ID! });
if (!claimed) throw new Error(`lease-holder-child: could not claim ${process.env.THREAD_ID}`);
const client = new pg.Client({ connectionString: url });
await client.connect();
while ((await client.query(`SELECT 1 FROM twelve_workers WHERE owner = $1`, [owner])).rowCount === 0) await new Promise((resolve) => setTimeout(resolve, 10));
await client.end();
writeSync(1, `claimed ${claimed.id}\n`);
setInterval(() => undefined, 60_000);
