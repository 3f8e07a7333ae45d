/**
 * The payment ledger the refunds agent writes to: a stand-in for a payment provider,
 * in its own SQLite file (REFUNDS_LEDGER_PATH, default .twelve/refunds-ledger.db).
 * It honours idempotency keys the way Stripe does: a second request with the same key
 * returns the first result and moves no money. It also refuses a second, different
 * refund of an order that was already refunded.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

export interface Refund {
  refundId: string;
  orderId: string;
  amountCents: number;
  status: 'issued';
}

export class Ledger {
  private readonly db: Database.Database;

  constructor(path = process.env.REFUNDS_LEDGER_PATH ?? '.twelve/refunds-ledger.db') {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    this.db = new Database(path, { timeout: 5_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS refunds (
      refund_id TEXT PRIMARY KEY,
      idempotency_key TEXT NOT NULL UNIQUE,
      order_id TEXT NOT NULL UNIQUE,
      amount_cents INTEGER NOT NULL,
      reason TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`);
  }

  /** Moves money at most once per idempotency key, and at most once per order. */
  refund(options: { idempotencyKey: string; orderId: string; amountCents: number; reason: string }): Refund {
    return this.db
      .transaction(() => {
        const byKey = this.db.prepare(`SELECT * FROM refunds WHERE idempotency_key = ?`).get(options.idempotencyKey) as Row | undefined;
        if (byKey) return toRefund(byKey);
        const byOrder = this.db.prepare(`SELECT * FROM refunds WHERE order_id = ?`).get(options.orderId) as Row | undefined;
        if (byOrder) {
          if (byOrder.amount_cents !== options.amountCents) {
            throw new Error(`order ${options.orderId} was already refunded (${byOrder.amount_cents} cents, ${byOrder.refund_id})`);
          }
          return toRefund(byOrder); // the same refund asked for again: nothing new moves
        }
        // Deterministic id: the same order and amount always yield the same refund id.
        const refundId = 'rf_' + createHash('sha256').update(`${options.orderId}:${options.amountCents}`).digest('hex').slice(0, 12);
        this.db
          .prepare(`INSERT INTO refunds (refund_id, idempotency_key, order_id, amount_cents, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
          .run(refundId, options.idempotencyKey, options.orderId, options.amountCents, options.reason, new Date().toISOString());
        return { refundId, orderId: options.orderId, amountCents: options.amountCents, status: 'issued' as const };
      })
      .immediate();
  }

  all(): Array<Refund & { idempotencyKey: string }> {
    return (this.db.prepare(`SELECT * FROM refunds ORDER BY created_at`).all() as Row[]).map((row) => ({ ...toRefund(row), idempotencyKey: row.idempotency_key }));
  }

  close(): void {
    this.db.close();
  }
}

interface Row {
  refund_id: string;
  idempotency_key: string;
  order_id: string;
  amount_cents: number;
}

function toRefund(row: Row): Refund {
  return { refundId: row.refund_id, orderId: row.order_id, amountCents: row.amount_cents, status: 'issued' };
}
