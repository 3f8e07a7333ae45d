/** A logger that keeps what it is told, for tests where the runtime's warnings are part of the contract. */
import type { Logger } from '../../src/log/logger.js';

export type RecordingLogger = Logger & { lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> };

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (fields: Record<string, unknown>, message = '') => void lines.push({ level, message, fields: { ...bindings, ...fields } });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => make({ ...bindings, ...more }) };
  };
  return Object.assign(make({}), { lines });
}
