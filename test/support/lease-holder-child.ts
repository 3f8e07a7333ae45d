/**
 * A worker process reduced to its lease: opens the PostgreSQL store at TWELVE_DATABASE_URL,
 * claims thread THREAD_ID as LEASE_OWNER (a long lease), prints `claimed <id>` and waits to
 * be killed. Run by test/store-postgres-takeover.test.ts with `node --import tsx`.
 */
import { writeSync } from 'node:fs';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';

const store = new PostgresStore({ url: process.env.TWELVE_DATABASE_URL! });
const claimed = await store.claim({ owner: process.env.LEASE_OWNER!, leaseMs: 600_000, threadId: process.env.THREAD_ID! });
if (!claimed) throw new Error(`lease-holder-child: could not claim ${process.env.THREAD_ID}`);
writeSync(1, `claimed ${claimed.id}\n`);
setInterval(() => undefined, 60_000);
