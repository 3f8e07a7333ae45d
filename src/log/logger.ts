/**
 * Logging: with TWELVE_LOG=json every appended event is one pino JSON line on stderr;
 * otherwise logs are silent unless something goes wrong. Secrets are scrubbed by the
 * redactor before anything is written.
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

export type LogFormat = 'json' | 'off';

export function createLogger(options: { format: LogFormat; level?: string; redactor?: Redactor; destination?: NodeJS.WritableStream }): Logger {
  if (options.format === 'off') return silentLogger;
  const redactor = options.redactor;
  // Loaded only when logging is on: it is ~20 ms of a cold start otherwise.
  const pino = createRequire(import.meta.url)('pino') as typeof pinoModule;
  const output = options.destination ?? pino.destination({ fd: 2, sync: true });
  // Scrub each serialised line too: messages, child bindings and Error objects bypass formatters.log.
  const destination = redactor && !redactor.empty ? { write: (line: string) => output.write(redactor.scrubText(line)) } : output;
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'twelve' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // The last line of defence: whatever a caller logs, known secret values never leave.
        log: (object) => (redactor ? (redactor.scrub(object) as Record<string, unknown>) : object),
      },
    },
    destination as pinoModule.DestinationStream,
  ) as unknown as Logger;
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
