/**
 * Logging. By default (TWELVE_LOG=text) warnings and errors go to stderr as one readable line
 * each: time, level, message, then the key fields (thread id, agent, ...). TWELVE_LOG=json
 * writes pino JSON lines instead, with every appended event at info; TWELVE_LOG=off is
 * silent. Secrets are scrubbed by the redactor before anything is written, in every format.
 */
import { createRequire } from 'node:module';
import type pinoModule from 'pino';
import type { Redactor } from '../config/redact.js';

export interface Logger {
  debug(object: Record<string, unknown>, message?: string): void;
  info(object: Record<string, unknown>, message?: string): void;
  warn(object: Record<string, unknown>, message?: string): void;
  error(object: Record<string, unknown>, message?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogFormat = 'text' | 'json' | 'off';

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export function createLogger(options: { format: LogFormat; level?: string; redactor?: Redactor; destination?: NodeJS.WritableStream }): Logger {
  if (options.format === 'off') return silentLogger;
  if (options.format === 'text') return createTextLogger(options);
  const redactor = options.redactor;
  // Loaded only for JSON logs: it is ~20 ms of a worker's cold start otherwise.
  const pino = createRequire(import.meta.url)('pino') as typeof pinoModule;
  const output = options.destination ?? pino.destination({ fd: 2, sync: true });
  // Scrub each serialised line too: messages, child bindings and Error objects bypass formatters.log.
  // Secrets only there: a user pattern (a card number) could match a bare number and break the JSON line.
  const destination = redactor && !redactor.empty ? { write: (line: string) => output.write(redactor.scrubSecretsText(line)) } : output;
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'twelve' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // The last line of defence: whatever a caller logs, known secret values never leave.
        log: (object) => (redactor ? (redactor.scrub(object) as Record<string, unknown>) : object),
        bindings: (bindings) => (redactor?.hasPatterns ? (redactor.scrub(bindings) as Record<string, unknown>) : bindings),
      },
      // User patterns (emails, card numbers...) in the message itself, which formatters.log never sees.
      ...(redactor?.hasPatterns
        ? { hooks: { logMethod(this: pinoModule.Logger, args: unknown[], method: (...a: unknown[]) => void) { method.apply(this, args.map((a) => (typeof a === 'string' ? redactor.scrubText(a) : a))); } } }
        : {}),
    },
    destination as pinoModule.DestinationStream,
  ) as unknown as Logger;
}

/**
 * `2026-12-01T10:00:00.000Z WARN  the message  threadId=th_1 agent=refunds error="..."`: one
 * line per call, at `level` (default warn) and above. No pino: nothing to load at start.
 */
export function createTextLogger(options: { level?: string; redactor?: Redactor; destination?: NodeJS.WritableStream; write?: (line: string) => void }): Logger {
  const threshold = Math.max(0, logLevels.indexOf((options.level ?? 'warn') as (typeof logLevels)[number]));
  const write = options.write ?? ((line: string) => (options.destination ? options.destination.write(line) : process.stderr.write(line)));
  const redactor = options.redactor;
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: (typeof logLevels)[number]) => {
      if (logLevels.indexOf(level) < threshold) return () => undefined;
      return (object: Record<string, unknown>, message?: string) => {
        const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${oneLine(message ?? '')}${fieldsText({ ...bindings, ...object })}\n`;
        write(redactor && !redactor.empty ? redactor.scrubText(line) : line);
      };
    };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => make({ ...bindings, ...more }) };
  };
  return make({});
}

function fieldsText(fields: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = value instanceof Error ? value.message : value;
    if (typeof text !== 'string') parts.push(`${key}=${JSON.stringify(text)}`);
    else parts.push(`${key}=${text !== '' && !/[\s"=]/.test(text) ? text : JSON.stringify(oneLine(text))}`);
  }
  return parts.length ? `  ${parts.join(' ')}` : '';
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
