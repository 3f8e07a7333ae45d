/**
 * What the model saw at each model step of a thread: the stored request (model_called.request,
 * put back together from its blobs), or, for events recorded before requests were kept, the
 * request re-derived from the log with the release that made the call (its stored manifest,
 * rendered by today's code: labelled "re-derived", never passed off as the original).
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import type { AgentRelease } from '../agent/release.js';
import { errorMessage } from '../errors.js';
import { buildRequest } from '../model/call-model.js';
import { loadRequest } from '../model/request-record.js';
import type { Store } from '../store/types.js';
import type { EventData, ThreadEvent } from '../thread/events.js';
import { ContextBuilder } from '../thread/render-context.js';
import { releaseFromManifest } from './release-from-manifest.js';

export interface StepRequest {
  /** 1 for the thread's first model step. */
  step: number;
  /** The model_called event's seq. */
  seq: number;
  releaseId: string;
  model: string;
  /** stored: exactly what was sent (before the provider's prompt-cache options, model/prompt-cache.ts); re-derived: rebuilt from the log; unavailable: neither (see note). */
  source: 'stored' | 're-derived' | 'unavailable';
  request?: LanguageModelV3CallOptions;
  ref?: string;
  bytes?: number;
  note?: string;
  response: Pick<EventData<'model_called'>, 'text' | 'toolCalls' | 'finishReason' | 'usage' | 'costUsd' | 'latencyMs'>;
}

type Reader = Pick<Store, 'getBlob' | 'getBlobs' | 'getRelease' | 'loadRequests'>;

/** Every model step of the events (or only the one at `seq`). */
export async function stepRequests(store: Reader, events: readonly ThreadEvent[], options: { seq?: number } = {}): Promise<StepRequest[]> {
  const steps: StepRequest[] = [];
  const rederive = new Rederiver(store, events);
  const requests = new ThreadRequests(store);
  let step = 0;
  for (const [index, e] of events.entries()) {
    if (e.type !== 'model_called') continue;
    step++;
    if (options.seq !== undefined && e.seq !== options.seq) continue;
    const { text, toolCalls, finishReason, usage, costUsd, latencyMs } = e.data;
    const base = { step, seq: e.seq, releaseId: e.releaseId, model: e.data.model, response: { text, toolCalls, finishReason, usage, costUsd, latencyMs } };
    if (e.data.request) {
      let request: LanguageModelV3CallOptions | undefined;
      let problem: string | undefined;
      try {
        request = await loadRequest(requests, { threadId: e.threadId, seq: e.seq, ref: e.data.request.ref });
      } catch (error) {
        problem = errorMessage(error);
      }
      steps.push(
        request
          ? { ...base, source: 'stored', request, ref: e.data.request.ref, bytes: e.data.request.bytes }
          : { ...base, source: 'unavailable', ref: e.data.request.ref, note: problem ?? `the request ${e.data.request.ref} is not in the store` },
      );
      continue;
    }
    const derived = await rederive.at(index);
    steps.push('request' in derived ? { ...base, source: 're-derived', request: derived.request, note: derived.note } : { ...base, source: 'unavailable', note: derived.missing });
  }
  return steps;
}

/** The thread's stored requests, read once for all its steps (each step's chain is among them). */
class ThreadRequests {
  private readonly read = new Map<string, Promise<Array<{ seq: number; text: string }>>>();

  constructor(private readonly store: Reader) {}

  getBlob(hash: string) {
    return this.store.getBlob(hash);
  }
  getBlobs(hashes: string[]) {
    return this.store.getBlobs(hashes);
  }
  async loadRequests(threadId: string, upToSeq: number, limit?: number) {
    let all = this.read.get(threadId);
    if (!all) this.read.set(threadId, (all = this.store.loadRequests(threadId, 2_147_483_647)));
    const rows = (await all).filter((row) => row.seq <= upToSeq);
    return limit === undefined ? rows : rows.slice(0, limit);
  }
}

/** Rebuilds old steps' requests: one incremental context per release, caught up on the log as needed. */
class Rederiver {
  private readonly releases = new Map<string, Promise<AgentRelease | string>>();
  private readonly builders = new Map<string, { builder: ContextBuilder; applied: number }>();

  constructor(
    private readonly store: Reader,
    private readonly events: readonly ThreadEvent[],
  ) {}

  async at(index: number): Promise<{ request: LanguageModelV3CallOptions; note: string } | { missing: string }> {
    const e = this.events[index] as ThreadEvent & { type: 'model_called'; data: EventData<'model_called'> };
    const release = await this.release(e.releaseId);
    if (typeof release === 'string') return { missing: `recorded before requests were stored, and ${release}` };
    let entry = this.builders.get(e.releaseId);
    if (!entry) this.builders.set(e.releaseId, (entry = { builder: new ContextBuilder(release), applied: 0 }));
    for (; entry.applied < index; entry.applied++) entry.builder.apply(this.events[entry.applied]!);
    const messages = entry.builder.messages();
    if (messages.length !== e.data.contextMessages) {
      return { missing: `recorded before requests were stored, and cannot be re-derived (the model was shown ${e.data.contextMessages} messages; re-rendered: ${messages.length}; an agent with its own renderContext?)` };
    }
    return { request: buildRequest(release, messages), note: `recorded before requests were stored: re-derived from the log with release ${e.releaseId}` };
  }

  private release(id: string): Promise<AgentRelease | string> {
    let found = this.releases.get(id);
    if (!found) this.releases.set(id, (found = this.load(id)));
    return found;
  }

  private async load(id: string): Promise<AgentRelease | string> {
    const stored = await this.store.getRelease(id);
    if (!stored) return `the manifest of release ${id} is not in the store`;
    try {
      return releaseFromManifest(stored.manifest, { releaseId: id });
    } catch (error) {
      return `the manifest of release ${id} cannot be read: ${errorMessage(error)}`;
    }
  }
}
