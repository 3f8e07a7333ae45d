/**
 * createRuntime: agents + a store + config = something that launches threads and runs
 * them. Every way of running work (the CLI's foreground run, runUntilIdle, the
 * background worker) goes through the same claim -> session -> release path.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isAgent, type Agent } from '../agent/define-agent.js';
import { createRelease, type AgentRelease } from '../agent/release.js';
import { loadConfig, type ModelMode, type TwelveConfig } from '../config/env.js';
import { Redactor } from '../config/redact.js';
import { SeqConflictError, TwelveError, errorMessage } from '../errors.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { ModelCaller } from '../model/call-model.js';
import { PriceTable } from '../model/prices.js';
import { ModelResolver, type ModelRegistry } from '../model/providers.js';
import { RecordingStore } from '../model/recording.js';
import { assertModelsCallable } from '../model/preflight.js';
import { withHeadSigning } from '../audit/head-signer.js';
import { openStore } from '../store/open.js';
import type { ClaimOptions, ListThreadsOptions, Store, ThreadRecord } from '../store/types.js';
import { event, type ThreadEvent } from '../thread/events.js';
import { foldEvents, isTerminal, waitingStatuses, type ThreadStatus } from '../thread/state.js';
import { Notifier } from '../notify/notifier.js';
import type { Human } from './approval.js';
import type { HumanAction } from './human.js';
import { zodIssues } from './compact-error.js';
import { stableStringify as stableJson } from '../util/stable-json.js';
import type { RuntimeServices } from './services.js';
import type { ThreadSession } from './thread-session.js';
import type { ForkOptions } from './fork.js';
import { AbandonedStep } from './abandoned-step.js';
import { childOf } from '../agent/agent-tool.js';
import { childThreadId, type ChildThreads } from './child-threads.js';
import { NewerReleaseWatch } from './newer-releases.js';
import { startWorker, type Worker, type WorkerOptions } from '../worker/worker.js';
import { version } from '../version.js';
import { assertMcpResolved } from '../mcp/tool-set.js';
import { tenantOf } from '../costs/tenants.js';
import { loadTracer, noopTracer, tracingEnabled, tracingProblems } from '../telemetry/tracer.js';
import type { TraceContext } from '../telemetry/trace-context.js';
import { DeltaBus, type DeltaListener } from '../stream/delta-bus.js';
import { DeltaRelay } from '../stream/delta-relay.js';

/**
 * What performs steps and actions (the session, the model call, budgets, approvals) loads on
 * the first claimed thread or person's action, not at start: a new worker is ready to claim
 * sooner (bench/cold-start.mjs), and loads the rest while it claims.
 */
let stepCode: Promise<[typeof import('./thread-session.js'), typeof import('./human.js')]> | undefined;
const loadStepCode = () => (stepCode ??= Promise.all([import('./thread-session.js'), import('./human.js')]));

export interface RuntimeOptions {
  agents: Agent[];
  /** Default: the store named by TWELVE_DATABASE_URL (SQLite at .twelve/twelve.db). */
  store?: Store;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Model instances by full id, e.g. { 'scripted:demo': scriptedModel([...]) }. */
  models?: ModelRegistry;
  /** Overrides TWELVE_MODEL_MODE. */
  modelMode?: ModelMode;
  /** Overrides TWELVE_RECORDINGS_DIR and the agents' own recordings directories. */
  recordingsDir?: string;
  logger?: Logger;
  /** First retry delay for model calls (default 250 ms). */
  retryBaseMs?: number;
  /** Lease length (default TWELVE_LEASE_MS, 30 s). */
  leaseMs?: number;
  /** Tool name -> implementation, as a config's toolBindings (TWELVE_TOOL_<NAME> wins). */
  toolBindings?: Record<string, string>;
  /** Closed with the runtime: the MCP connections its agents' tools use (connectMcpTools). */
  mcp?: { close(): Promise<void> };
  /**
   * How often a parent waiting for a child thread (agentTool) looks at it without being woken
   * (default 30 s): the bound on how late a parent goes on when its child's wake-up is lost.
   */
  childCheckMs?: number;
}

export interface LaunchOptions {
  agent: string;
  input: unknown;
  metadata?: Record<string, unknown>;
  /**
   * Makes the launch idempotent: a retry with the same key returns the same thread (an
   * HTTP Idempotency-Key, a broker message id). Reusing a key for another agent, input or
   * metadata is a conflict.
   */
  idempotencyKey?: string;
  /** Whose keys these are (an API key's name): the same key under another scope is another launch. */
  idempotencyScope?: string;
  /**
   * Refuse (config_invalid) before creating the thread when a model of the agent's chain cannot
   * be called here: no key or base URL, no recordings to replay. For processes that run the
   * thread themselves (`twelve run`); a server's launch is run by workers with their own config.
   */
  checkModels?: boolean;
  /** The W3C trace context of the caller (a traceparent header): the thread's spans join that trace. */
  trace?: TraceContext;
  /** A child thread (agentTool): its id (derived from the call) and the parent call it answers, with the limits it gets. */
  child?: { threadId: string; parent: { threadId: string; callId: string; limits?: { maxCostUsd?: number; maxTokens?: number } } };
}

/** How a foreground run ended: the thread's status when it stopped, or interrupted (stop signal, lost lease). */
export type RunOutcome = Exclude<ThreadStatus, 'runnable'> | 'interrupted';

export interface ActionResult {
  thread: ThreadRecord;
  /** False when a worker holds the thread: the pause or cancel is applied after its current step. */
  applied: boolean;
}

export interface RunThreadOptions {
  /** Aborting stops between steps (the step in flight finishes and is recorded). */
  stop?: AbortSignal;
}

export type EventListener = (event: ThreadEvent) => void;

export class Runtime {
  readonly config: TwelveConfig;
  readonly store: Store;
  readonly logger: Logger;
  readonly owner: string;
  /** Secrets and the user's patterns: what logs, traces, exports and the API/console views show. */
  readonly viewRedactor: Redactor;
  private readonly releases = new Map<string, AgentRelease>();
  private readonly savedReleases = new Set<string>();
  private readonly listeners = new Set<EventListener>();
  /** Streamed model text, in this process and (PostgreSQL) from the others: see src/stream/. */
  private readonly deltas = new DeltaBus();
  private readonly relay: DeltaRelay;
  private readonly services: RuntimeServices;
  private readonly env: NodeJS.ProcessEnv;
  private readonly leaseMs: number;
  private readonly ownsStore: boolean;
  private readonly workers = new Set<Worker>();
  private readonly mcp: { close(): Promise<void> } | undefined;
  /**
   * Log the events that stop a thread (blocked, escalated, failed...) as warnings and errors.
   * The CLI's foreground run turns it off: it prints every event on stdout already.
   */
  logThreadEvents = true;

  constructor(options: RuntimeOptions) {
    let agents = options.agents ?? [];
    for (const [index, agent] of agents.entries()) {
      if (!isAgent(agent)) throw new TwelveError('agent_invalid', `agents[${index}] is not an agent created with defineAgent`);
      assertMcpResolved(agent);
    }
    if (options.toolBindings) agents = agents.map((agent) => ({ ...agent, configToolBindings: { ...agent.configToolBindings, ...options.toolBindings } }));
    this.mcp = options.mcp;
    const env = (this.env = options.env ?? process.env);
    this.config = loadConfig(env, agents);
    // Before anything is opened: a tracing variable it cannot follow stops the start, naming it.
    const tracing = tracingEnabled(env) ? tracingProblems(env) : [];
    if (tracing.length > 0) throw new TwelveError('config_invalid', `invalid tracing configuration:\n  ${tracing.join('\n  ')}`, { details: { problems: tracing } });
    const redactor = Redactor.fromEnv(env);
    this.viewRedactor = redactor.withPatterns(this.config.redactPatterns);
    this.logger = options.logger ?? createLogger({ format: this.config.log, level: this.config.logLevel, redactor: this.viewRedactor });
    for (const agent of agents) {
      if (this.releases.has(agent.name)) throw new TwelveError('agent_invalid', `two agents are named "${agent.name}"`);
      this.releases.set(agent.name, createRelease(agent, this.config.agents[agent.name], version));
    }
    // An agentTool launches its agent here: that agent must be one this runtime runs.
    for (const agent of agents) {
      for (const tool of agent.tools.values()) {
        const child = childOf(tool)?.agent;
        if (child && !this.releases.has(child.name)) {
          throw new TwelveError(
            'agent_invalid',
            `agent ${agent.name}: tool ${tool.name} hands work to agent ${child.name}, which this runtime does not run; add it to createRuntime({ agents: [...] }) (and to twelve.config.ts)`,
            { details: { agent: agent.name, tool: tool.name, child: child.name } },
          );
        }
      }
    }
    this.ownsStore = !options.store;
    // Audit: with TWELVE_AUDIT_SIGNING_KEY, chain heads are signed as threads advance (the store as is without one).
    this.store = withHeadSigning(options.store ?? openStore(this.config.databaseUrl), {
      key: this.config.audit.signingKey, signEvery: this.config.audit.signEvery, onError: (error) => this.logger.warn({ err: error }, 'could not sign an audit chain head'),
    });
    this.leaseMs = options.leaseMs ?? this.config.leaseMs;
    this.owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const recordingsOverride = options.recordingsDir ?? this.config.recordingsDir;
    const recordingStores = new Map<string, RecordingStore>();
    const models: ModelCaller = {
      resolver: new ModelResolver(this.config.providers, options.models),
      prices: new PriceTable(this.config.prices),
      mode: options.modelMode ?? this.config.modelMode,
      retryBaseMs: options.retryBaseMs ?? 250,
      promptCacheKey: this.config.providers.openai.promptCacheKey,
      recordings: (release) => {
        const directory = recordingsOverride ?? release.agent.recordingsDir ?? '.twelve/recordings';
        let store = recordingStores.get(directory);
        if (!store) recordingStores.set(directory, (store = new RecordingStore(directory)));
        return store;
      },
    };
    const logEvents = this.config.log === 'json';
    this.relay = new DeltaRelay(this.store, this.deltas, (error) => this.logger.warn({ error: errorMessage(error) }, 'streamed model text could not reach other processes'));
    this.services = {
      store: this.store,
      models,
      redactor,
      // Secrets are always scrubbed before an append; the user's patterns too for agents that opt in.
      writeRedactor: (agent) => (this.releases.get(agent)?.agent.options.redactAtWrite ? this.viewRedactor : redactor),
      viewRedactor: this.viewRedactor,
      logger: this.logger,
      tenants: this.config.tenants,
      tracer: noopTracer,
      logThreadEvents: () => this.logThreadEvents,
      maxPayloadBytes: this.config.maxPayloadBytes,
      publishDelta: (delta) => {
        this.deltas.publish(delta);
        this.relay.send(delta);
      },
      children: this.childThreads(options.childCheckMs ?? 30_000),
      emit: (events) => {
        for (const e of events) {
          if (e.type === 'model_called' || e.type === 'model_failed') this.deltas.settled(e.threadId, e.seq);
          if (logEvents) this.logger.info({ threadId: e.threadId, seq: e.seq, type: e.type, releaseId: e.releaseId, data: e.data }, e.type);
          for (const listener of this.listeners) {
            try {
              listener(e);
            } catch (error) {
              this.logger.warn({ error: errorMessage(error) }, 'an event listener threw; ignored');
            }
          }
        }
      },
    };
    this.tracerReady = this.loadTracer();
  }

  /**
   * The OpenTelemetry tracer, loaded (imported) only when OTEL_* tracing variables are set; a
   * configuration it refuses is logged and tracing stays off rather than stopping the runtime.
   */
  private readonly tracerReady: Promise<void> | undefined;

  private loadTracer(): Promise<void> | undefined {
    if (!tracingEnabled(this.env)) return undefined;
    return loadTracer(this.env, { version }).then(
      (tracer) => {
        if (tracer) this.services.tracer = tracer;
      },
      (error) => this.logger.error({ error: errorMessage(error) }, 'tracing is off: the OTEL_* configuration was refused'),
    );
  }

  /** What sessions use to launch, wake and cancel child threads (agentTool), through this runtime. */
  private childThreads(checkMs: number): ChildThreads {
    return {
      checkMs,
      launch: async ({ parentThreadId, callId, agent, input, limits }) => {
        const release = this.release(agent);
        // The child's own limits, capped by what the parent has left.
        const cap = (own: number | undefined, left: number | undefined) => (own === undefined ? left : left === undefined ? own : Math.min(own, left));
        const maxCostUsd = cap(release.limits.maxCostUsd, limits.maxCostUsd);
        const maxTokens = cap(release.limits.maxTokens, limits.maxTokens);
        const threadId = childThreadId((text) => createHash('sha256').update(text).digest('hex'), parentThreadId, callId);
        const { thread } = await this.launchOnce({
          agent,
          input,
          idempotencyKey: `${parentThreadId}:${callId}`,
          idempotencyScope: 'child',
          child: {
            threadId,
            parent: { threadId: parentThreadId, callId, ...(maxCostUsd !== undefined || maxTokens !== undefined ? { limits: { ...(maxCostUsd !== undefined ? { maxCostUsd } : {}), ...(maxTokens !== undefined ? { maxTokens } : {}) } } : {}) },
          },
        });
        return thread.id;
      },
      wake: async (parentThreadId) => {
        await this.store.wakeThread(parentThreadId);
        for (const worker of this.workers) worker.nudge();
      },
      cancel: async (childThreadIds, by, reason) => {
        for (const id of childThreadIds) {
          await this.cancel(id, { by, reason }).catch((error) => {
            if (!TwelveError.is(error, 'conflict')) this.logger.warn({ threadId: id, error: errorMessage(error) }, 'could not cancel a child thread');
          });
        }
      },
    };
  }

  /** The agents this runtime can run, as releases (model pins, limits, release id). */
  get agents(): AgentRelease[] {
    return [...this.releases.values()];
  }

  release(agentName: string): AgentRelease {
    const release = this.releases.get(agentName);
    if (!release) {
      throw new TwelveError('agent_not_found', `unknown agent "${agentName}" (known: ${[...this.releases.keys()].join(', ') || 'none'})`, {
        details: { agent: agentName },
      });
    }
    return release;
  }

  /** Receive every event right after it is appended by this runtime. Returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Receive the streamed text of one thread's model calls (agents with `stream: true`), from
   * this process and, on PostgreSQL, from workers in other processes. Resolves once listening:
   * deltas sent after that arrive. Ephemeral: the stored model_called event has the final text.
   */
  async subscribeDeltas(threadId: string, listener: DeltaListener): Promise<() => void> {
    const unsubscribe = this.deltas.subscribe(threadId, listener);
    await this.relay.listen();
    return unsubscribe;
  }

  /** Creates a thread; it runs when a worker (or runThread) picks it up. */
  async launch(options: LaunchOptions): Promise<ThreadRecord> {
    return (await this.launchOnce(options)).thread;
  }

  /** launch(), also saying whether this call created the thread or found it by its idempotency key. */
  async launchOnce(options: LaunchOptions): Promise<{ thread: ThreadRecord; created: boolean }> {
    const key = options.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 255)) {
      throw new TwelveError('usage', 'idempotencyKey must be a non-empty string of at most 255 characters');
    }
    // Scoped keys are stored as "<scope>|<key>" (scope URI-encoded, so it holds no "|").
    const launchKey = key && options.idempotencyScope !== undefined ? `${encodeURIComponent(options.idempotencyScope)}|${key}` : key;
    if (launchKey) {
      const existing = await this.store.findThreadByLaunchKey(launchKey);
      if (existing) return { thread: await this.sameLaunch(existing, options), created: false };
    }
    try {
      return { thread: await this.createLaunch(options, launchKey), created: true };
    } catch (error) {
      if (!launchKey || !TwelveError.is(error, 'conflict')) throw error;
      // Lost a race with a concurrent launch under the same key: theirs stands.
      const existing = await this.store.findThreadByLaunchKey(launchKey);
      if (!existing) throw error;
      return { thread: await this.sameLaunch(existing, options), created: false };
    }
  }

  /** The thread a retried launch finds must be the one it asks for: same agent, input and metadata. */
  private async sameLaunch(existing: ThreadRecord, options: LaunchOptions): Promise<ThreadRecord> {
    const parsed = this.release(options.agent).agent.inputSchema.safeParse(options.input);
    const writeRedactor = this.services.writeRedactor(options.agent);
    const input = parsed.success ? writeRedactor.scrub(parsed.data) : options.input;
    const metadata = options.metadata ? writeRedactor.scrub(options.metadata) : undefined;
    const [started] = await this.store.loadEvents(existing.id);
    const recorded = started?.type === 'thread_started' ? started.data.metadata : undefined;
    const differs = existing.agent !== options.agent || JSON.stringify(existing.input) !== JSON.stringify(input ?? null) || stableJson(recorded ?? null) !== stableJson(metadata ?? null);
    if (differs) {
      throw new TwelveError('conflict', `idempotency key "${options.idempotencyKey}" was already used for thread ${existing.id} with another agent or input, or other metadata`, {
        details: { threadId: existing.id },
      });
    }
    return existing;
  }

  private async createLaunch(options: LaunchOptions, launchKey: string | undefined): Promise<ThreadRecord> {
    const release = this.release(options.agent);
    const parsed = release.agent.inputSchema.safeParse(options.input);
    if (!parsed.success) {
      throw new TwelveError('input_invalid', `input for agent ${release.agent.name} is invalid: ${zodIssues(parsed.error)}`, {
        details: { issues: parsed.error.issues },
      });
    }
    if (options.checkModels) assertModelsCallable(this.services.models, release, (message) => this.services.logger.warn({ agent: release.agent.name }, message));
    await this.saveRelease(release);
    const id = options.child?.threadId ?? newThreadId();
    const writeRedactor = this.services.writeRedactor(release.agent.name);
    const input = writeRedactor.scrub(parsed.data);
    const metadata = options.metadata && writeRedactor.scrub(options.metadata);
    const tenant = tenantOf(metadata, this.config.tenants.key);
    if (this.tracerReady) await this.tracerReady;
    // Traced here: a launch span (child of the caller's) whose context the thread keeps; else the caller's as is.
    const launchSpan = this.services.tracer.enabled ? this.services.tracer.launch({ agent: release.agent.name, releaseId: release.releaseId, parent: options.trace }) : undefined;
    launchSpan?.span.set({ 'twelve.thread.id': id });
    const trace = launchSpan?.context ?? options.trace;
    const parent = options.child?.parent;
    const started = event('thread_started', { agent: release.agent.name, input, ...(metadata ? { metadata } : {}), ...(trace ? { trace } : {}), ...(parent ? { parent } : {}) });
    const stored = await this.store.createThread({
      id,
      ...(launchKey ? { launchKey } : {}),
      agent: release.agent.name,
      releaseId: release.releaseId,
      input,
      ...(tenant !== undefined ? { tenant } : {}),
      ...(parent ? { parentId: parent.threadId } : {}),
      events: [started],
      summary: { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
    }).finally(() => launchSpan?.span.end());
    this.services.emit(stored);
    for (const worker of this.workers) worker.nudge();
    return (await this.store.getThread(id))!;
  }

  /**
   * A new thread whose first events are copies of `threadId`'s events 1..atSeq (with their
   * original release ids and times), then `thread_forked {from, atSeq, by, shadow?}`; it goes
   * on on this runtime's release when a worker (or runThread) picks it up. `shadow` makes it a
   * replay: tools that are not pure are never run for real, and nobody is notified.
   * Refuses (usage) a seq out of range or another release; (conflict) a cut inside a started,
   * unfinished call of a tool that is not pure, or after the thread ended, naming the seqs that work.
   * @example
   * const fork = await runtime.fork(thread.id, { atSeq: 4, by: 'alice' });
   * await runtime.runThread(fork.id);
   */
  async fork(threadId: string, options: ForkOptions): Promise<ThreadRecord> {
    const { forkThread } = await import('./fork.js');
    const release = this.release((await this.getThreadOrThrow(threadId)).agent);
    await this.saveRelease(release);
    const stored = await forkThread({ store: this.store, release: (agent) => this.release(agent), newThreadId }, threadId, options);
    this.services.emit(stored);
    for (const worker of this.workers) worker.nudge();
    return this.getThreadOrThrow(stored[0]!.threadId);
  }

  /**
   * Claims one thread and runs it until it completes, fails, waits for a human, or
   * `stop` is aborted. Throws if another live worker holds it.
   */
  async runThread(threadId: string, options: RunThreadOptions = {}): Promise<{ thread: ThreadRecord; outcome: RunOutcome }> {
    const thread = await this.getThreadOrThrow(threadId);
    if (isTerminal(thread.status)) return { thread, outcome: outcomeOf(thread.status) };
    await this.saveReleases();
    const claimed = await this.store.claim({ owner: this.owner, leaseMs: this.leaseMs, threadId, isOwnerDead, releases: this.releaseIds() });
    if (!claimed) {
      const current = await this.getThreadOrThrow(threadId);
      if (isTerminal(current.status)) return { thread: current, outcome: outcomeOf(current.status) };
      const newer = await this.newerReleaseRefusal(current, 'run it');
      if (newer) throw newer;
      throw new TwelveError('thread_not_runnable', `thread ${threadId} is being run by another worker (${current.leaseOwner}); try again after its lease ends`, {
        details: { leaseOwner: current.leaseOwner, leaseUntil: current.leaseUntil },
      });
    }
    const outcome = await this.drive(claimed, options.stop);
    return { thread: await this.getThreadOrThrow(threadId), outcome };
  }

  /** What a worker may claim: this runtime's agents, within their fleet-wide caps. */
  private claimOptions(): ClaimOptions {
    const agentCaps: Record<string, number> = {};
    for (const release of this.releases.values()) if (release.maxConcurrency) agentCaps[release.agent.name] = release.maxConcurrency;
    return {
      owner: this.owner,
      leaseMs: this.leaseMs,
      agents: [...this.releases.keys()],
      isOwnerDead,
      releases: this.releaseIds(),
      ...(Object.keys(agentCaps).length ? { agentCaps } : {}),
    };
  }

  /** agent -> the release this runtime runs: no claim takes a thread a newer release of its agent stepped. */
  private releaseIds(): Record<string, string> {
    return Object.fromEntries([...this.releases.values()].map((release) => [release.agent.name, release.releaseId]));
  }

  /** Every release this runtime runs, saved before it claims (the claim compares their ordinals). */
  private async saveReleases(): Promise<void> {
    for (const release of this.releases.values()) await this.saveRelease(release);
  }

  /**
   * Why this process will not touch a thread, when the thread's latest event was written by a
   * newer release of its agent than the one here (no downgrade), naming both; else undefined.
   */
  private async newerReleaseRefusal(thread: ThreadRecord, doing: string): Promise<TwelveError | undefined> {
    const mine = this.releases.get(thread.agent);
    if (!mine || thread.releaseId === mine.releaseId) return undefined;
    const [theirs, ours] = await Promise.all([this.store.getRelease(thread.releaseId), this.store.getRelease(mine.releaseId)]);
    if (!theirs || !ours || theirs.agent !== ours.agent || theirs.ordinal <= ours.ordinal) return undefined;
    return new TwelveError(
      'thread_not_runnable',
      `will not ${doing}: thread ${thread.id} was last stepped by release ${theirs.id} of ${thread.agent}, newer than release ${ours.id} that this process runs; ` +
        `an older release never steps it again (no downgrade). Use the code of ${theirs.id} (deploy it here, or act where it runs)`,
      { details: { threadRelease: theirs.id, ownRelease: ours.id } },
    );
  }

  /** Runs every runnable thread (including ones launched meanwhile) until none is left. */
  async runUntilIdle(options: RunThreadOptions = {}): Promise<number> {
    let count = 0;
    await this.saveReleases();
    while (!options.stop?.aborted) {
      const claimed = await this.store.claim(this.claimOptions());
      if (!claimed) break;
      await this.drive(claimed, options.stop);
      count++;
    }
    return count;
  }

  /** One claimed thread: fold once, step until it stops, always release the lease. */
  async drive(claimed: ThreadRecord, stop?: AbortSignal, abort?: AbortSignal): Promise<RunOutcome> {
    // The store lets an owner re-take its own lease, so guard against driving one thread twice here
    // (or while a run abandoned at shutdown may still be going on).
    if (this.driving.has(claimed.id) || this.abandoned.has(claimed.id)) throw new TwelveError('thread_busy', `thread ${claimed.id} is already running in this process`);
    this.driving.add(claimed.id);
    try {
      return await this.driveClaimed(claimed, stop, abort);
    } finally {
      this.driving.delete(claimed.id);
    }
  }

  private readonly driving = new Set<string>();
  /** Threads whose tool run was abandoned at shutdown and may still be running: the lease is kept until it ends. */
  private readonly abandoned = new Map<string, () => void>();

  private async driveClaimed(claimed: ThreadRecord, stop?: AbortSignal, abort?: AbortSignal): Promise<RunOutcome> {
    const release = this.release(claimed.agent);
    const [{ ThreadSession }] = await loadStepCode();
    if (this.tracerReady) await this.tracerReady;
    const session = new ThreadSession(this.services, release, claimed.id);
    if (!this.services.tracer.enabled) return this.driveSession(claimed, session, stop, abort);
    try {
      const outcome = await this.driveSession(claimed, session, stop, abort);
      session.endSegment(outcome);
      return outcome;
    } catch (error) {
      session.endSegment('error', error);
      throw error;
    }
  }

  private async driveSession(claimed: ThreadRecord, session: ThreadSession, stop?: AbortSignal, abort?: AbortSignal): Promise<RunOutcome> {
    const release = session.release;
    let leaseLost = false;
    let abandoned: Promise<void> | undefined;
    const renew = setInterval(() => {
      this.store.renewLease(claimed.id, this.owner, this.leaseMs).then(
        (held) => {
          // Another worker took the thread (our lease expired): stop before the next step.
          if (!held) leaseLost = true;
        },
        (error) => this.logger.warn({ threadId: claimed.id, error: errorMessage(error) }, 'lease renewal failed'),
      );
    }, Math.max(1_000, Math.floor(this.leaseMs / 3)));
    renew.unref();
    try {
      // This runtime's steps carry its release id, so the release must resolve even if it launched nothing.
      await this.saveRelease(release);
      await session.load();
      session.beginSegment();
      // Stepped last by another release: the move is recorded before anything else (and may hold it).
      await session.recordReleaseMove();
      for (;;) {
        if (stop?.aborted) return 'interrupted';
        if (leaseLost) {
          this.logger.warn({ threadId: claimed.id }, 'lost the lease to another worker; stopping this session');
          return 'interrupted';
        }
        // A pause or cancel asked for meanwhile is applied between steps, never inside one.
        const control = await this.store.getControl(claimed.id);
        if (control) await session.applyControl(control);
        const decision = await session.step(abort);
        if (decision.type === 'done' || decision.type === 'wait') {
          // One last look before letting go: a pause or cancel that came in during the final
          // step must not be left as a request nobody applies.
          const late = decision.type === 'wait' ? await this.store.getControl(claimed.id) : null;
          if (!late) return outcomeOf(session.state.status);
          await session.applyControl(late);
        }
      }
    } catch (error) {
      if (error instanceof SeqConflictError) {
        // Another worker appended first: its step stands, this one is dropped.
        this.logger.warn({ threadId: claimed.id, error: error.message }, 'lost a race for the next step; dropping this session');
        return 'interrupted';
      }
      if (error instanceof AbandonedStep) {
        abandoned = error.settled;
        return 'interrupted';
      }
      throw error;
    } finally {
      const letGo = async () => {
        clearInterval(renew);
        await this.store.releaseLease(claimed.id, this.owner).catch(() => undefined);
      };
      if (!abandoned) await letGo();
      else {
        // Past the grace period with a tool that ignores its signal: releasing now would let
        // another worker start the same call while this run goes on. The lease stays ours,
        // renewed, until the run ends (then it is released) or this process exits (then the
        // store sees the owner dead and another worker takes over at once).
        let done = false;
        const stop = () => {
          done = true;
          clearInterval(renew);
          this.abandoned.delete(claimed.id);
        };
        this.abandoned.set(claimed.id, stop);
        void abandoned.then(async () => {
          if (done) return;
          stop();
          await letGo();
        });
      }
    }
  }

  /** A person, with roles from TWELVE_HUMANS unless the caller (an API key) gives them. */
  human(by: string | Human): Human {
    const human = typeof by === 'string' ? { name: by } : by;
    if (!human.name?.trim()) throw new TwelveError('usage', 'say who is acting (a name, e.g. --as alice@example.com)');
    return { name: human.name, roles: human.roles ?? this.config.humans.get(human.name) ?? [] };
  }

  /**
   * Applies a person's action to a thread as one event, under the thread's lease and the
   * expected-seq check. A pause or cancel for a thread a worker is running right now is
   * recorded as a request and applied by that worker after its current step.
   */
  async act(threadId: string, by: string | Human, action: HumanAction): Promise<ActionResult> {
    const human = this.human(by);
    const deadline = Date.now() + 2_000;
    // Its own lease owner: a thread this runtime is driving right now must look busy to the action.
    const owner = `${this.owner}:act`;
    await this.saveReleases();
    for (;;) {
      const claimed = await this.store.claim({ owner, leaseMs: this.leaseMs, threadId, isOwnerDead, releases: this.releaseIds() });
      if (!claimed) {
        const thread = await this.getThreadOrThrow(threadId);
        if (isTerminal(thread.status)) {
          if (action.kind === 'review') throw (await import('./review.js')).settledReviewError(foldEvents(threadId, await this.store.loadEvents(threadId)));
          throw new TwelveError('conflict', `thread ${threadId} is ${thread.status}; it takes no more decisions`, { details: { status: thread.status } });
        }
        const newer = await this.newerReleaseRefusal(thread, `${action.kind} it`);
        if (newer) throw newer;
        if (action.kind === 'pause' || action.kind === 'cancel') {
          await this.store.setControl(threadId, { kind: action.kind, by: human.name, ...(action.reason ? { reason: action.reason } : {}) });
          return { thread: await this.getThreadOrThrow(threadId), applied: false };
        }
        // Another process holds the thread for a moment (a worker applying a deadline, another decider).
        if (Date.now() > deadline) throw new TwelveError('thread_busy', `thread ${threadId} is being run by ${thread.leaseOwner}; try again when it waits for a person`);
        await new Promise((resolve) => setTimeout(resolve, 25));
        continue;
      }
      let refusal: TwelveError | undefined;
      try {
        const release = this.release(claimed.agent);
        await this.saveRelease(release);
        const [{ ThreadSession }, { eventsForAction }] = await loadStepCode();
        const session = new ThreadSession(this.services, release, threadId);
        await session.load();
        const move = await session.planReleaseMove();
        if (move) {
          // Checked first on the log as it is (throws when the action cannot apply), so a refused
          // action moves nothing; then the move is recorded before the person's action.
          eventsForAction(release, session.state, human, action, Date.now());
          await session.commit([event('release_changed', move)]);
          if (move.decision === 'hold' && !movesOnHold(action)) {
            throw new TwelveError(
              'conflict',
              `thread ${threadId} moved from release ${move.from} to ${move.to} and is held for a person (${move.reason}); ` +
                `nothing else was recorded. Look at the change, then: twelve resume ${threadId} --as <you> --comment "<why>" (or twelve cancel ${threadId})`,
              { details: { release: move } },
            );
          }
        }
        // Deadlines are judged after the log is loaded, under the thread's lease.
        const effect = eventsForAction(release, session.state, human, action, Date.now());
        refusal = effect.refusal;
        await session.commit(effect.events, { clearControl: action.kind === 'pause' || action.kind === 'cancel' });
      } finally {
        await this.store.releaseLease(threadId, owner).catch(() => undefined);
      }
      for (const worker of this.workers) worker.nudge();
      // Too late: the deadline's default is now recorded (it is what the thread goes on with).
      if (refusal) throw refusal;
      return { thread: await this.getThreadOrThrow(threadId), applied: true };
    }
  }

  /** Approve or reject a call that waits for approval (the only one, or `callId`). */
  async decide(threadId: string, options: { by: string | Human; approved: boolean; callId?: string; comment?: string }): Promise<ThreadRecord> {
    const { by, ...decision } = options;
    return (await this.act(threadId, by, { kind: 'decide', ...decision })).thread;
  }

  /** Answer the question the agent asked, or give guidance to an escalated thread. */
  async answer(threadId: string, options: { by: string | Human; answer: string; callId?: string }): Promise<ThreadRecord> {
    const { by, ...answer } = options;
    return (await this.act(threadId, by, { kind: 'answer', ...answer })).thread;
  }

  /**
   * A reviewer's decision on the final answer that waits for review: approve it, edit it
   * (`output`, validated against the output schema), send it back (`feedback`, which the model
   * reads as its next input), or reject it. Only the agent's reviewers decide; the first decision stands.
   * @example
   * await runtime.review(thread.id, { by: 'alice', decision: 'edited', output: { decision: 'denied' }, comment: 'outside the window' });
   */
  async review(
    threadId: string,
    options: { by: string | Human; decision: 'approved' | 'edited' | 'sent_back' | 'rejected'; output?: unknown; feedback?: string; comment?: string },
  ): Promise<ThreadRecord> {
    const { by, ...review } = options;
    return (await this.act(threadId, by, { kind: 'review', ...review })).thread;
  }

  /**
   * Continues a paused or escalated thread, optionally with guidance the model will read.
   * A thread that is merely interrupted (runnable) needs no resume event: run it.
   */
  async resume(threadId: string, options: { by: string | Human; comment?: string }): Promise<ThreadRecord> {
    const thread = await this.getThreadOrThrow(threadId);
    if (thread.status === 'awaiting_review') {
      throw new TwelveError('conflict', `thread ${threadId} waits for a review of its answer (${thread.waitingReason}); review it instead: twelve review show ${threadId}, then approve, edit, send-back or reject`, {
        details: { status: thread.status },
      });
    }
    if (thread.status !== 'paused' && !(thread.status === 'awaiting_human' && /^(escalated|budget|blocked|release):/.test(thread.waitingReason ?? ''))) {
      if (isTerminal(thread.status)) throw new TwelveError('thread_not_runnable', `thread ${threadId} is ${thread.status}; there is nothing to resume`);
      return thread;
    }
    return (await this.act(threadId, options.by, { kind: 'resume', ...(options.comment ? { comment: options.comment } : {}) })).thread;
  }

  /**
   * Continues a completed thread with the user's next message (a conversation): the thread is
   * runnable again and the model reads its earlier answers and this text. Failed and cancelled
   * threads cannot be continued, and a thread still working or waiting refuses the message
   * (both 409). A retry with the same `messageId` is recorded once (`added: false`).
   * @example
   * await runtime.say(thread.id, { by: 'alice', text: 'And in euros?', messageId: 'm-2' });
   */
  async say(threadId: string, options: { by: string | Human; text: string; messageId?: string }): Promise<{ thread: ThreadRecord; added: boolean; seq: number }> {
    const human = this.human(options.by);
    const { addMessage, maxMessageChars } = await import('./conversation.js');
    if (typeof options.text !== 'string' || !options.text.trim()) throw new TwelveError('usage', 'say something: the message text is empty');
    if (options.text.length > maxMessageChars) throw new TwelveError('usage', `the message is ${options.text.length} characters; the most is ${maxMessageChars}`);
    if (options.messageId !== undefined && !/^[\w.:-]{1,200}$/.test(options.messageId)) {
      throw new TwelveError('usage', `messageId "${options.messageId.slice(0, 40)}" must be 1-200 letters, digits, _ . : or -`);
    }
    await this.saveReleases();
    for (let attempt = 1; ; attempt++) {
      const thread = await this.getThreadOrThrow(threadId);
      const release = this.release(thread.agent);
      await this.saveRelease(release);
      try {
        const { added, seq } = await addMessage(this.services, release, threadId, { text: options.text, by: human.name, ...(options.messageId !== undefined ? { messageId: options.messageId } : {}) });
        if (added) for (const worker of this.workers) worker.nudge();
        return { thread: await this.getThreadOrThrow(threadId), added, seq };
      } catch (error) {
        // Another process appended meanwhile (a worker finishing its release, a concurrent send): look again.
        if (error instanceof SeqConflictError && attempt < 5) continue;
        throw error;
      }
    }
  }

  raiseBudget(threadId: string, options: { by: string | Human; maxCostUsd?: number; maxTokens?: number; maxSteps?: number; comment?: string }): Promise<ActionResult> {
    const { by, ...limits } = options;
    return this.act(threadId, by, { kind: 'raiseBudget', ...limits });
  }

  pause(threadId: string, options: { by: string | Human; reason?: string }): Promise<ActionResult> {
    return this.act(threadId, options.by, { kind: 'pause', ...(options.reason ? { reason: options.reason } : {}) });
  }

  cancel(threadId: string, options: { by: string | Human; reason?: string }): Promise<ActionResult> {
    return this.act(threadId, options.by, { kind: 'cancel', ...(options.reason ? { reason: options.reason } : {}) });
  }

  /** Every thread that waits for a person (approvals, questions, reviews, escalations, budgets), oldest first. */
  async listWaiting(options: { agent?: string; limit?: number } = {}): Promise<ThreadRecord[]> {
    const threads = await this.store.listThreads({ status: [...waitingStatuses], ...options });
    return threads.reverse();
  }

  /** Delivers due notifications until none is left or the time is up (the CLI calls it before exiting). */
  async flushNotifications(timeoutMs = 5_000): Promise<void> {
    const notifier = this.notifier();
    if (notifier) await notifier.flush({ timeoutMs });
  }

  private notifierInstance: Notifier | undefined;
  /** Set by startNotifier: the notifier then outlives this runtime's workers. */
  private notifierPinned = false;

  /**
   * Delivers notifications from this process in the background until close() (an API process
   * does this, so `serve` notifies people even when no worker has TWELVE_NOTIFY_URL).
   * Returns false when TWELVE_NOTIFY_URL is not set here.
   */
  startNotifier(): boolean {
    const notifier = this.notifier();
    if (!notifier) return false;
    this.notifierPinned = true;
    notifier.start({ intervalMs: 1_000 });
    return true;
  }

  private notifier(): Notifier | undefined {
    if (!this.config.notify) return undefined;
    this.notifierInstance ??= new Notifier({ outbox: this.store, url: this.config.notify.url, secret: this.config.notify.secret, logger: this.logger, maxAgeMs: 24 * 3_600_000 });
    return this.notifierInstance;
  }

  /** Starts a background worker loop in this process. */
  startWorker(options: WorkerOptions = {}): Worker {
    void loadStepCode().catch(() => undefined); // while the first claim connects (the first drive awaits it again)
    // Threads a newer release stepped are skipped by the claim: say so (once per agent and release).
    // An idle claim prompts a look at most every ten polls (5 s by default), a timer every 30 s.
    const newer = new NewerReleaseWatch({ store: this.store, logger: this.logger, releases: this.releaseIds(), idleMs: Math.max(1_000, 10 * (options.pollMs ?? 500)) });
    const worker = startWorker(
      {
        claim: async () => {
          await this.saveReleases();
          const claimed = await this.store.claim(this.claimOptions());
          if (!claimed) newer.idle();
          return claimed;
        },
        drive: (thread, stop, abort) => this.drive(thread, stop, abort),
        logger: this.logger,
      },
      options,
    );
    void worker.stopped.then(() => newer.stop());
    this.workers.add(worker);
    // Wake idle loops the moment another process makes work claimable (PostgreSQL LISTEN/NOTIFY).
    const unsubscribe = this.store.subscribeWork?.(() => worker.nudge()).catch((error) => {
      this.logger.warn({ error: errorMessage(error) }, 'cannot listen for new work; polling only');
      return undefined;
    });
    void worker.stopped.then(async () => (await unsubscribe)?.());
    // Workers also deliver notifications, so a fleet needs no separate notifier process.
    const notifier = this.notifier();
    notifier?.start({ intervalMs: 1_000 });
    void worker.stopped.then(async () => {
      this.workers.delete(worker);
      if (notifier && this.workers.size === 0 && !this.notifierPinned) await notifier.stop();
    });
    return worker;
  }

  getThread(threadId: string): Promise<ThreadRecord | undefined> {
    return this.store.getThread(threadId);
  }

  async getThreadOrThrow(threadId: string): Promise<ThreadRecord> {
    const thread = await this.store.getThread(threadId);
    if (!thread) throw new TwelveError('thread_not_found', `no thread "${threadId}"`, { details: { threadId } });
    return thread;
  }

  listThreads(options?: ListThreadsOptions): Promise<ThreadRecord[]> {
    return this.store.listThreads(options);
  }

  loadEvents(threadId: string, afterSeq = 0): Promise<ThreadEvent[]> {
    return this.store.loadEvents(threadId, afterSeq);
  }

  private async saveRelease(release: AgentRelease): Promise<void> {
    if (this.savedReleases.has(release.releaseId)) return;
    await this.store.saveRelease({ id: release.releaseId, agent: release.agent.name, manifest: release.manifest });
    this.savedReleases.add(release.releaseId);
  }

  /** Stops workers (draining the step in flight) and closes the store if this runtime opened it. */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((worker) => worker.stop()));
    await this.notifierInstance?.stop();
    await this.relay.close();
    // Runs abandoned at shutdown keep their leases until they expire (nobody renews them now).
    for (const stop of [...this.abandoned.values()]) stop();
    await this.services.tracer.shutdown().catch((error: unknown) => this.logger.warn({ error: errorMessage(error) }, 'flushing traces failed'));
    if (this.ownsStore) await this.store.close();
    await this.mcp?.close().catch((error: unknown) => this.logger.warn({ error: errorMessage(error) }, 'closing MCP connections failed'));
  }
}

/**
 * @example
 * const runtime = createRuntime({ agents: [refunds] });
 * const thread = await runtime.launch({ agent: 'refunds', input: 'Refund order A-1001' });
 * const { outcome } = await runtime.runThread(thread.id);
 */
export function createRuntime(options: RuntimeOptions): Runtime {
  return new Runtime(options);
}

/** Actions a person may take on a thread that a release move just held: the ones that decide the hold. */
function movesOnHold(action: HumanAction): boolean {
  return action.kind === 'resume' || action.kind === 'cancel' || action.kind === 'pause';
}

function outcomeOf(status: ThreadStatus): RunOutcome {
  return status === 'runnable' ? 'interrupted' : status;
}

function newThreadId(): string {
  // Time-ordered prefix (sorts by creation), random suffix (unique across processes).
  return `th_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}

/** A lease held by a process on this host that no longer exists can be taken at once. */
export function isOwnerDead(owner: string): boolean {
  const [host, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
