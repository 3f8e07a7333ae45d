/** The refunds agent's tools: read an order, issue a refund through the ledger. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTool } from 'twelve-agents';
import { Ledger } from './ledger.js';

export interface Order {
  orderId: string;
  item: string;
  totalCents: number;
  status: 'delivered' | 'shipped' | 'processing';
  daysSinceDelivery: number | null;
  digital: boolean;
  customer: string;
}

const orders = JSON.parse(readFileSync(new URL('./orders.json', import.meta.url), 'utf8')) as Record<string, Order>;
const orderId = z.string().regex(/^A-\d{4}$/, 'order ids look like A-1001');

export const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Look up an order by id: item, total in cents, delivery status, days since delivery, whether it is digital.',
  input: z.object({ orderId }),
  run: ({ orderId }) => {
    const order = orders[orderId];
    if (!order) throw new Error(`no order ${orderId}`);
    return order;
  },
});

let ledger: Ledger | undefined;

/** Refunds above this many cents wait for a person's approval (REFUNDS_APPROVAL_ABOVE_CENTS, default $100). */
export const approvalAboveCents = Number(process.env.REFUNDS_APPROVAL_ABOVE_CENTS ?? 10_000);
if (!Number.isInteger(approvalAboveCents) || approvalAboveCents < 0) {
  throw new Error(`REFUNDS_APPROVAL_ABOVE_CENTS must be a whole number of cents, got "${process.env.REFUNDS_APPROVAL_ABOVE_CENTS}"`);
}

export const issueRefund = defineTool({
  name: 'issue_refund',
  // The threshold is in the description, so the model knows, and changing it changes the release id.
  description: `Refund an order to the original payment method. Moves money: call it once, only when the policy allows. Refunds above ${approvalAboveCents} cents wait for a person's approval.`,
  approval: ({ amountCents }) =>
    amountCents > approvalAboveCents ? { required: true, reason: `refund of ${amountCents} cents is above the ${approvalAboveCents}-cent approval threshold` } : false,
  // Roles (TWELVE_HUMANS, or an API key's owner's roles); { roles: [...], people: ['alice'] } also names people.
  approvers: ['finance', 'support-lead'],
  approvalTimeoutMs: 24 * 60 * 60_000,
  onApprovalTimeout: 'reject',
  input: z.object({
    orderId,
    amountCents: z.number().int().positive(),
    reason: z.string().min(3).max(200),
  }),
  output: z.object({ refundId: z.string(), orderId: z.string(), amountCents: z.number(), status: z.literal('issued') }),
  run: async ({ orderId, amountCents, reason }, ctx) => {
    const order = orders[orderId];
    if (!order) throw new Error(`no order ${orderId}`);
    // The ledger enforces the hard limits too: the model's judgement is not the only guard.
    if (amountCents > order.totalCents) throw new Error(`amount ${amountCents} exceeds the order total ${order.totalCents}`);
    if (order.digital) throw new Error('digital items are not refundable');
    ledger ??= new Ledger();
    const refund = ledger.refund({ idempotencyKey: ctx.idempotencyKey, orderId, amountCents, reason });
    // A slow payment provider, for demos and the crash test (kill while the call is "in flight").
    const latency = Number(process.env.REFUNDS_LEDGER_LATENCY_MS ?? 0);
    if (latency > 0) await sleep(latency, undefined, { signal: ctx.signal });
    return refund;
  },
});
