/**
 * Argument parsing the local and the remote (TWELVE_URL) CLI share, so both accept the
 * same input and refuse bad input with the same one-line message.
 */
import { TwelveError } from '../errors.js';
import type { HumanAction } from '../runtime/human.js';
import { threadStatuses, type ThreadStatus } from '../thread/state.js';
import type { Flags } from './command.js';

/** `threads ls` filters: --status s1,s2 and --limit n. */
export function parseListFlags(flags: Flags): { status: ThreadStatus[] | undefined; limit: number } {
  const status = flags.status?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of status ?? []) {
    if (!(threadStatuses as readonly string[]).includes(s)) throw new TwelveError('usage', `--status: "${s}" is not a status (${threadStatuses.join(', ')})`);
  }
  const limit = flags.limit === undefined ? 50 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit <= 0) throw new TwelveError('usage', `--limit must be a positive integer, got "${flags.limit}"`);
  return { status: status as ThreadStatus[] | undefined, limit };
}

function positiveNumber(flag: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
    throw new TwelveError('usage', `--${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  }
  return number;
}

/**
 * approve, reject, answer, budget, pause, cancel -> the thread and the action. `as`: whether
 * the command names its person with --as (locally; remotely the API key's name is recorded).
 */
export function parseHumanCommand(command: string, rest: string[], flags: Flags, options: { as: boolean }): { threadId: string; action: HumanAction } {
  const usage = humanUsage(options);
  if (!usage[command]) throw new TwelveError('usage', `unknown command "${command}"`);
  const [threadId, ...more] = rest;
  const wrong = () => new TwelveError('usage', `usage: ${usage[command]} (see twelve ${command} --help)`);
  if (!threadId) throw wrong();
  if (options.as && !flags.as) throw new TwelveError('usage', `${command} needs --as <who>: decisions are recorded with who made them`);
  switch (command) {
    case 'approve':
    case 'reject':
      if (more.length > 1) throw wrong();
      return { threadId, action: { kind: 'decide', approved: command === 'approve', ...(more[0] ? { callId: more[0] } : {}), ...(flags.comment ? { comment: flags.comment } : {}) } };
    case 'answer': {
      const [first, second] = more;
      const text = second ?? first;
      if (!text || more.length > 2) throw wrong();
      return { threadId, action: { kind: 'answer', answer: text, ...(second !== undefined ? { callId: first! } : {}) } };
    }
    case 'budget': {
      if (more.length > 0) throw wrong();
      const maxCostUsd = positiveNumber('max-cost-usd', flags['max-cost-usd'], false);
      const maxTokens = positiveNumber('max-tokens', flags['max-tokens'], true);
      const maxSteps = positiveNumber('max-steps', flags['max-steps'], true);
      if (maxCostUsd === undefined && maxTokens === undefined && maxSteps === undefined) {
        throw new TwelveError('usage', 'raise the budget with at least one of --max-cost-usd, --max-tokens, --max-steps');
      }
      return {
        threadId,
        action: {
          kind: 'raiseBudget',
          ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
          ...(maxTokens !== undefined ? { maxTokens } : {}),
          ...(maxSteps !== undefined ? { maxSteps } : {}),
          ...(flags.comment ? { comment: flags.comment } : {}),
        },
      };
    }
    default:
      if (more.length > 0) throw wrong();
      return { threadId, action: { kind: command as 'pause' | 'cancel', ...(flags.reason ? { reason: flags.reason } : {}) } };
  }
}

/** Usage lines of the commands by which people act on threads (with --as locally, without it remotely). */
export function humanUsage(options: { as: boolean }): Record<string, string> {
  const as = options.as ? ' --as <who>' : '';
  return {
    approve: `twelve approve <thread> [callId]${as} [--comment <text>] [--run|--wait]`,
    reject: `twelve reject <thread> [callId]${as} [--comment <text>] [--run|--wait]`,
    answer: `twelve answer <thread> [callId]${as} "<answer>" [--run|--wait]`,
    budget: `twelve budget <thread>${as} [--max-cost-usd n] [--max-tokens n] [--max-steps n] [--comment <text>] [--run|--wait]`,
    pause: `twelve pause <thread>${as} [--reason <text>]`,
    cancel: `twelve cancel <thread>${as} [--reason <text>]`,
  };
}
