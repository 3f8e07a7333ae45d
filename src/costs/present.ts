/**
 * A cost report as people read it: one line per group, then the total. A group with calls of
 * unknown price says so next to its dollars ("$0.7500 + 1 unpriced"); a group whose every call
 * is unpriced shows "unknown", never $0.
 */
import type { CostDimension, CostRow } from './types.js';

export interface CostTotals {
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  calls: number;
  unpricedCalls: number;
}

export function totalOf(rows: readonly CostRow[]): CostTotals {
  const total: CostTotals = { costUsd: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, calls: 0, unpricedCalls: 0 };
  for (const row of rows) {
    total.costUsd += row.costUsd;
    total.inputTokens += row.inputTokens;
    total.outputTokens += row.outputTokens;
    // Absent in a report from a server older than prompt caching.
    total.cachedInputTokens += row.cachedInputTokens ?? 0;
    total.cacheWriteTokens += row.cacheWriteTokens ?? 0;
    total.calls += row.calls;
    total.unpricedCalls += row.unpricedCalls;
  }
  return total;
}

/** "$0.7500", "$0.7500 + 2 unpriced", "unknown (1 unpriced)". */
export function spendText(row: CostTotals): string {
  if (row.unpricedCalls === 0) return `$${row.costUsd.toFixed(4)}`;
  if (row.unpricedCalls === row.calls) return `unknown (${row.unpricedCalls} unpriced)`;
  return `$${row.costUsd.toFixed(4)} + ${row.unpricedCalls} unpriced`;
}

/** The report as an aligned table with a total line. */
export function costTable(by: readonly CostDimension[], rows: readonly CostRow[]): string {
  if (rows.length === 0) return 'no model calls in this period';
  // INPUT counts every input token; CACHED of them were read from a provider's prompt cache (cheaper), WRITTEN written to it.
  const header = [...by.map((d) => d.toUpperCase()), 'CALLS', 'INPUT', 'CACHED', 'WRITTEN', 'OUTPUT', 'SPEND'];
  const line = (keys: string[], t: CostTotals) => [
    ...keys,
    String(t.calls),
    String(t.inputTokens),
    String(t.cachedInputTokens ?? 0),
    String(t.cacheWriteTokens ?? 0),
    String(t.outputTokens),
    spendText(t),
  ];
  const body = rows.map((row) => line(by.map((d) => (d === 'tenant' ? (row.tenant ?? '(none)') : String(row[d] ?? ''))), row));
  const total = line(['total', ...by.slice(1).map(() => '')], totalOf(rows));
  const table = [header, ...body, total];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  // Names left, numbers right; the spend last, left, as it may carry a note.
  const numeric = (column: number) => column >= by.length && column < header.length - 1;
  const format = (cells: string[]) =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : numeric(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  const unpriced = totalOf(rows).unpricedCalls;
  const note = unpriced > 0 ? `\n${unpriced} model call${unpriced === 1 ? '' : 's'} had no known price: their spend is unknown and not in the dollars above (price the model with TWELVE_MODEL_PRICES)` : '';
  return [...table.map(format)].join('\n') + note;
}
