/**
 * Record/replay. In `record` mode every model response is stored in a directory, one
 * JSON file per request, named by a hash of the request (model id, messages, tools,
 * settings). In `replay` mode the same request returns the stored response with no
 * network at all, so demos and tests are offline and deterministic.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { TwelveError } from '../errors.js';
import { stableStringify } from '../util/stable-json.js';

export interface Recording {
  key: string;
  model: string;
  /** The last message of the request, to make a recording file readable. */
  lastMessage: unknown;
  response: Pick<LanguageModelV3GenerateResult, 'content' | 'finishReason' | 'usage'>;
}

export function requestKey(model: string, request: LanguageModelV3CallOptions): string {
  const { prompt, tools, toolChoice, responseFormat, temperature, maxOutputTokens } = request;
  const material = stableStringify({ model, prompt, tools, toolChoice, responseFormat, temperature, maxOutputTokens });
  return createHash('sha256').update(material).digest('hex').slice(0, 24);
}

export class RecordingStore {
  constructor(readonly directory: string) {}

  read(key: string): Recording | undefined {
    try {
      return JSON.parse(readFileSync(join(this.directory, `${key}.json`), 'utf8')) as Recording;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new TwelveError('replay_missing', `recording ${key} in ${this.directory} is unreadable: ${(error as Error).message}`);
    }
  }

  write(recording: Recording): void {
    mkdirSync(this.directory, { recursive: true });
    const file = join(this.directory, `${recording.key}.json`);
    // Write then rename, so a crash never leaves half a recording behind.
    writeFileSync(`${file}.tmp`, JSON.stringify(recording, null, 2) + '\n');
    renameSync(`${file}.tmp`, file);
  }
}

export function replayMissing(model: string, key: string, directory: string, agent: string): TwelveError {
  return new TwelveError(
    'replay_missing',
    `no recorded response for this ${model} request (key ${key}) in ${directory}. ` +
      `Record it by running the same thread with TWELVE_MODEL_MODE=record and a live provider key (agent ${agent}); ` +
      `a changed prompt, tool schema or input changes the key`,
    { details: { model, key, directory, agent } },
  );
}
