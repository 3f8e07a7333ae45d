/**
 * A ThreadSession is one worker's hold on one thread, for as long as its lease lasts:
 * it folds the log once, then repeats decide -> perform one action -> append. It keeps
 * the folded state between steps only while it holds the lease (so a step costs the
 * same on a 10-event thread and a 10,000-event one); nothing survives the release.
 */
import { boundRun } from '../agent/tool-binding.js';
import type { LanguageModelV3ToolCall } from '@ai-sdk/provider';
import { askHumanInput } from '../agent/ask-human.js';
import { isSleepRequest, type ToolContext } from '../agent/define-tool.js';
import type { AgentRelease } from '../agent/release.js';
import { TwelveError, errorMessage } from '../errors.js';
import { decide, type Decision } from '../thread/decide.js';
import { clipText } from '../thread/clip-text.js';
import { approvalTimeoutEvent, questionTimeoutEvent } from '../thread/deadlines.js';
import { interruptedQuestion } from '../thread/interrupted-tool.js';
import { event, type CompactError, type EventData, type NewEvent, type ThreadEvent } from '../thread/events.js';
import { ContextBuilder, renderContext } from '../thread/render-context.js';
import { applyEvent, initialState, isTerminal, waitingStatuses, type ThreadState } from '../thread/state.js';
import { buildRequest, callModel, ModelBlockedError, ModelCallError } from '../model/call-model.js';
import { recordRequest, type PreviousRequest, type RecordedRequest, type Scrub } from '../model/request-record.js';
import type { NewBlob } from '../blobs/blob.js';
import { limitResult } from '../blobs/truncate-result.js';
import type { NotificationPayload, ReplyPayload } from '../notify/types.js';
import type { AppendExtras, ControlRequest, ThreadSummary } from '../store/types.js';
import { planMove } from '../release/move.js';
import { proposalFor } from '../eval/proposals.js';
import { AbandonedStep } from './abandoned-step.js';
import { childOf } from '../agent/agent-tool.js';
import { childOutcomeEvents, launchFailure, openChildren, remainingLimits } from './child-threads.js';
import { ToolStop } from './tool-stop.js';
import { approvalRequest } from './approval.js';
import { checkBudget } from './budget.js';
import { recordedTenantOf, tenantCap } from '../costs/tenants.js';
import { compact, parseJsonAnswer, toJsonValue, zodIssues } from './compact-error.js';
import { completionEvents } from './completion.js';
import { withFallback } from './fallback.js';
import { logNotableEvents } from './event-log.js';
import { replyFor, replyTarget, type ReplyTarget } from './reply.js';
import { reviewTimeoutEvents } from './review.js';
import { RecordedResults, shadowToolEvents } from './shadow-tools.js';
import type { RuntimeServices } from './services.js';
import type { TraceSpan } from '../telemetry/tracer.js';
import type { TraceContext } from '../telemetry/trace-context.js';
import { modelContentAttributes, modelRequestAttributes, modelResponseAttributes, toolAttributes } from '../telemetry/span-attributes.js';

export class ThreadSession {
  readonly state: ThreadState;
  private readonly builder: ContextBuilder;
  /** Kept only for agents with their own renderContext (it receives the events). */
  private readonly events: ThreadEvent[] | undefined;
  /** This session's last stored request, which the next one extends (model/request-record.ts). */
  private lastRequest: PreviousRequest | undefined;
  /** Blob hashes this session's commits stored (durably): not sent again while it holds the thread. */
  private readonly storedBlobs = new Set<string>();
  private scrub: Scrub | undefined;
  /** Whether this session warned that a step's request changed an earlier message (warnCacheBreak). */
  private cacheBreakSaid = false;
  /** Set once an append failed: the in-memory state may be ahead of the log; drop the session. */
  private broken = false;
  /** Where the thread's outcome goes when it finishes (from its launch metadata), if anywhere. */
  private reply: ReplyTarget | undefined;
  /** A shadow thread's origin's tool outcomes, loaded on its first call that may not run for real. */
  private recorded: RecordedResults | undefined;
  /** Tracing (only when the tracer is enabled): the launch's trace, the seq where the latest wait began, the open spans. */
  private trace: { launch?: TraceContext | undefined; waitSeq?: number; workedSinceWait?: boolean; segment?: TraceSpan; step?: TraceSpan } | undefined;

  constructor(
    private readonly services: RuntimeServices,
    readonly release: AgentRelease,
    readonly threadId: string,
  ) {
    this.state = initialState(threadId);
    this.builder = new ContextBuilder(release);
    this.events = release.agent.options.renderContext ? [] : undefined;
    if (services.tracer.enabled) this.trace = {};
  }

  async load(): Promise<void> {
    for (const stored of await this.services.store.loadEvents(this.threadId, this.state.seq)) this.apply(stored);
  }

  private apply(stored: ThreadEvent): void {
    if (stored.type === 'thread_started') this.reply = replyTarget(stored.data.metadata);
    const trace = this.trace;
    if (trace) {
      if (stored.type === 'thread_started') trace.launch = stored.data.trace;
      const waiting = isWaiting(this.state.status);
      applyEvent(this.state, stored);
      if (!waiting && isWaiting(this.state.status)) {
        trace.waitSeq = stored.seq;
        trace.workedSinceWait = false;
      } else if (stored.type === 'model_called' || stored.type === 'tool_started' || stored.type === 'tool_succeeded' || stored.type === 'tool_failed') {
        // The segment that resumed the thread did work: later segments do not link to that wait again.
        trace.workedSinceWait = true;
      }
    } else applyEvent(this.state, stored);
    this.builder.apply(stored);
    this.events?.push(stored);
  }

  decide(now = Date.now()): Decision {
    return decide(this.release, this.state, now);
  }

  /** Opens the run segment's span (after load): a child of the launch's trace, linked to where a wait began when it resumes one. */
  beginSegment(): void {
    const trace = this.trace;
    if (!trace) return;
    const resumedFrom = trace.waitSeq !== undefined && !trace.workedSinceWait && !isWaiting(this.state.status) ? trace.waitSeq : undefined;
    trace.segment = this.services.tracer.segment({ threadId: this.threadId, agent: this.release.agent.name, releaseId: this.release.releaseId, parent: trace.launch, resumedFrom, seq: this.state.seq });
  }

  /** Closes the segment's span; a segment that leaves the thread waiting marks where, for the one that resumes it. */
  endSegment(outcome: string, error?: unknown): void {
    const trace = this.trace;
    if (!trace?.segment) return;
    const segment = trace.segment;
    trace.segment = undefined;
    segment.set({ 'twelve.outcome': outcome, 'twelve.status': this.state.status, 'twelve.seq.end': this.state.seq, 'twelve.cost_usd': this.state.costUsd });
    if (error !== undefined) segment.fail(error);
    if (isWaiting(this.state.status)) this.services.tracer.waitStarted(segment, { threadId: this.threadId, seq: trace.waitSeq ?? this.state.seq, status: this.state.status });
    segment.end();
  }

  /** Performs one decided action. Returns the decision, so callers know when to stop. */
  async step(signal?: AbortSignal): Promise<Decision> {
    const now = Date.now();
    const decision = this.decide(now);
    const trace = this.trace;
    if (!trace?.segment || decision.type === 'done' || decision.type === 'wait') return this.perform(decision, now, signal);
    const span = (trace.step = this.services.tracer.child(trace.segment, `step ${decision.type}`, { 'twelve.thread.id': this.threadId, 'twelve.seq': this.state.seq + 1, 'twelve.decision': decision.type }));
    try {
      return await this.perform(decision, now, signal);
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.set({ 'twelve.seq.end': this.state.seq, 'twelve.status': this.state.status });
      span.end();
      trace.step = undefined;
    }
  }

  private async perform(decision: Decision, now: number, signal: AbortSignal | undefined): Promise<Decision> {
    switch (decision.type) {
      case 'done':
        return decision;
      case 'wait':
        // A replay never waits for a person (nobody is told about it): it stops where one is needed.
        if (this.state.replayOf && waitingStatuses.includes(this.state.status)) {
          const error: CompactError = { code: 'replay_stopped', message: `needs a person (${this.state.waitingReason ?? this.state.status}); a replay stops there` };
          await this.commit([event('thread_failed', { error })]);
          return { type: 'fail', error };
        }
        return decision;
      case 'prefetch': {
        const events: NewEvent[] = [];
        for (const call of decision.calls) {
          const args = toJsonValue(call.args);
          events.push(event('tool_requested', { ...call, args, source: 'prefetch' }));
          const approval = approvalRequest(this.release, this.state, { ...call, args }, now);
          if (approval) events.push(approval);
        }
        await this.commit(events);
        return decision;
      }
      case 'runTool':
        await this.runTool(decision.callId, decision.attempt, now, signal);
        return decision;
      case 'abandonTool':
        await this.commit([event('tool_failed', { callId: decision.callId, error: decision.error })]);
        return decision;
      case 'confirmTool': {
        const call = this.state.calls.get(decision.callId)!;
        await this.commit([event('human_asked', interruptedQuestion(call, decision.interrupted, `${this.threadId}:${decision.callId}`))]);
        return decision;
      }
      case 'approvalTimeout':
        await this.commit([approvalTimeoutEvent(decision.callId, decision.approved)]);
        return decision;
      case 'questionTimeout':
        await this.commit([questionTimeoutEvent(decision.callId, decision.answer)]);
        return decision;
      case 'reviewTimeout':
        await this.commit(reviewTimeoutEvents(this.state.review!));
        return decision;
      case 'checkChild':
        // A child still running: the parent lets go of its worker until the child wakes it.
        if (!(await this.checkChild(decision.callId, decision.childThreadId))) return { type: 'wait', reason: this.state.waitingReason ?? 'awaiting a child thread' };
        return decision;
      case 'callModel':
        await this.callModel(signal);
        return decision;
      case 'escalate':
        await this.commit([event('escalated', { reason: decision.reason, consecutiveErrors: this.state.consecutiveErrors, kind: 'errors' })]);
        return decision;
      case 'fail':
        await this.commit([event('thread_failed', { error: decision.error })]);
        return decision;
    }
  }

  /**
   * When another release wrote the thread's latest event, the move to this release, decided
   * (see src/release/move.ts); undefined when there is none (same release, finished thread).
   */
  async planReleaseMove(): Promise<EventData<'release_changed'> | undefined> {
    const from = this.state.lastReleaseId;
    if (!from || from === this.release.releaseId || isTerminal(this.state.status)) return undefined;
    const old = await this.services.store.getRelease(from);
    return planMove({ thread: this.state, from, to: this.release.releaseId, before: old?.manifest, after: this.release.manifest });
  }

  /** The first step on this release records the move (release_changed) before anything else; a hold makes the thread wait for a person. */
  async recordReleaseMove(): Promise<EventData<'release_changed'> | undefined> {
    const move = await this.planReleaseMove();
    if (move) await this.commit([event('release_changed', move)]);
    return move;
  }

  /** Applies a pause or cancel that someone requested while this thread was busy or unclaimed. */
  async applyControl(control: ControlRequest): Promise<void> {
    // A thread that finished meanwhile takes no pause or cancel: just drop the request.
    if (isTerminal(this.state.status)) {
      await this.commit([], { clearControl: true });
      return;
    }
    const reason = control.reason ? { reason: control.reason } : {};
    const events = control.kind === 'cancel' ? [event('cancelled', { by: control.by, ...reason })] : this.state.paused ? [] : [event('paused', { by: control.by, ...reason })];
    await this.commit(events, { clearControl: true });
  }

  /**
   * Appends events after the seq this session has seen, in one transaction with their
   * side tables (daily spend, notifications). The events are applied to the in-memory
   * state first, because the thread's summary columns come from it; if the append then
   * fails (a lost race, a store error) the session is marked broken and must be dropped.
   */
  async commit(events: NewEvent[], options: { clearControl?: boolean; blobs?: NewBlob[]; request?: RecordedRequest } = {}): Promise<ThreadEvent[]> {
    if (this.broken) throw new TwelveError('internal', `thread ${this.threadId}: this session is stale after a failed append`);
    const redactor = this.services.writeRedactor(this.release.agent.name);
    const clean = redactor.empty ? events : events.map((e) => ({ type: e.type, data: redactor.scrub(e.data) }) as NewEvent);
    const expectedSeq = this.state.seq;
    const at = new Date().toISOString();
    const releaseId = this.release.releaseId;
    const extras: AppendExtras = {};
    const notifications: NotificationPayload[] = [];
    const replies: ReplyPayload[] = [];
    const proposals: NonNullable<AppendExtras['proposals']> = [];
    let spend = 0;
    this.broken = true;
    // A failure the non-LLM fallback answered for in the same commit keeps nobody waiting: no notification for it.
    const answered = clean.some((e) => e.type === 'fallback_used');
    clean.forEach((e, index) => {
      const provisional = { ...e, threadId: this.threadId, seq: expectedSeq + index + 1, at, releaseId } as ThreadEvent;
      // A person's correction proposes an eval case; judged on the state before the event (eval/proposals.ts).
      const proposal = proposalFor(provisional, this.state, this.release);
      if (proposal) proposals.push(proposal);
      this.apply(provisional);
      if (provisional.type === 'model_called') spend += provisional.data.costUsd ?? 0;
      // Always written: whichever process has TWELVE_NOTIFY_URL (an API server, a worker) delivers it.
      // Shadow (replay) threads tell nobody; a fork's copied launch metadata names its origin's reply target, not its own.
      const notification = this.state.replayOf || (answered && (e.type === 'blocked' || e.type === 'budget_exceeded')) ? undefined : waitNotification(provisional, this.state);
      if (notification) notifications.push(notification);
      const reply = this.reply && !this.state.forkOf && replyFor(provisional, this.reply);
      if (reply) replies.push(reply);
    });
    const tenant = spend > 0 ? this.tenant() : undefined;
    if (spend > 0) extras.spend = { agent: this.release.agent.name, day: at.slice(0, 10), costUsd: spend, ...(tenant !== undefined ? { tenant } : {}) };
    if (notifications.length > 0) extras.notifications = notifications;
    if (replies.length > 0) extras.replies = replies;
    if (proposals.length > 0) extras.proposals = proposals;
    // Blobs are content-addressed and stored once; this session's earlier commits already stored
    // the ones it sent (a request resends every earlier message), so a step writes only what is new.
    const blobs = [...(options.blobs ?? []), ...(options.request?.blobs ?? [])].filter((blob) => !this.storedBlobs.has(blob.hash));
    if (blobs.length) extras.blobs = blobs;
    // The model step's request is kept in its event's row (model/request-record.ts).
    const sent = options.request;
    const requestIndex = sent ? clean.findIndex((e) => (e.type === 'model_called' || e.type === 'model_failed') && e.data.request?.ref === sent.request.ref) : -1;
    if (sent && requestIndex >= 0) extras.request = { index: requestIndex, text: sent.text };
    const summary: ThreadSummary = {
      status: this.state.status,
      output: this.state.output,
      error: this.state.error ?? null,
      waitingReason: this.state.waitingReason ?? null,
      modelSteps: this.state.modelSteps,
      inputTokens: this.state.inputTokens,
      outputTokens: this.state.outputTokens,
      cachedInputTokens: this.state.cachedInputTokens,
      cacheWriteTokens: this.state.cacheWriteTokens,
      costUsd: this.state.costUsd,
      unpricedCalls: this.state.unpricedCalls,
      wakeAt: this.state.wakeAt ? Date.parse(this.state.wakeAt) : null,
      confidence: this.state.confidence ?? null,
      // A finished thread never keeps a control request (it would look claimable forever).
      ...(options.clearControl || isTerminal(this.state.status) ? { clearControl: true } : {}),
    };
    const stored = await this.services.store.append(this.threadId, expectedSeq, releaseId, clean, summary, extras);
    this.broken = false;
    for (const blob of blobs) this.storedBlobs.add(blob.hash);
    if (sent && requestIndex >= 0) this.lastRequest = sent.next(stored[requestIndex]!.seq);
    if (this.services.logThreadEvents()) logNotableEvents(this.services.logger, this.release.agent.name, stored);
    this.services.emit(stored);
    await this.afterCommit(stored);
    return stored;
  }

  /**
   * Child threads, after the commit (never in its transaction): a child that ended wakes its
   * parent; a parent that was cancelled cancels its running children. A crash before this runs
   * loses only the nudge: the waiting parent looks at its child by itself (child_started.checkAt).
   */
  private async afterCommit(stored: ThreadEvent[]): Promise<void> {
    // Back to waiting for a child after something else (a resume after a pause, say): look at the child
    // now, not at the next check (it may have ended meanwhile, and its wake-up found the thread paused).
    if (this.state.status === 'awaiting_child' && !stored.some((e) => e.type === 'child_started')) await this.services.store.wakeThread(this.threadId);
    const ended = stored.find((e) => e.type === 'thread_completed' || e.type === 'thread_failed' || e.type === 'cancelled');
    if (!ended) return;
    const { children, logger } = this.services;
    if (this.state.parent) {
      await children.wake(this.state.parent.threadId).catch((error) => logger.warn({ threadId: this.threadId, parent: this.state.parent?.threadId, error: errorMessage(error) }, 'could not wake the parent thread; it looks again by itself'));
    }
    const running = ended.type === 'cancelled' ? openChildren(this.state) : [];
    if (ended.type === 'cancelled' && running.length > 0) await children.cancel(running, ended.data.by, `parent thread ${this.threadId} was cancelled`);
  }

  /**
   * Looks at the child of an agentTool call: ended, its outcome is recorded (true). Still running,
   * the parent is set to look again after checkMs and looked at once more, so a child that ended
   * (and woke the parent) in between is not missed (false: wait).
   */
  private async checkChild(callId: string, childThreadId: string): Promise<boolean> {
    const { store } = this.services;
    let child = await store.getThread(childThreadId);
    if (child && !isTerminal(child.status)) {
      await store.wakeThread(this.threadId, Date.now() + this.services.children.checkMs);
      child = await store.getThread(childThreadId);
      if (child && !isTerminal(child.status)) return false;
    }
    const tool = this.state.calls.get(callId)!.tool;
    if (!child) {
      await this.commit([event('tool_failed', { callId, error: compact('child_missing', `${tool}: child thread ${childThreadId} no longer exists`) })]);
      return true;
    }
    await this.commit(childOutcomeEvents(callId, tool, childOf(this.release.agent.tools.get(tool)), child));
    return true;
  }

  /** An agentTool call: launch its child (create-if-absent), capped by what this thread has left, and wait for it. */
  private async startChild(callId: string, tool: string, settings: NonNullable<ReturnType<typeof childOf>>, args: unknown): Promise<void> {
    const limits = remainingLimits(this.release, this.state);
    if (limits.maxCostUsd === 0 || limits.maxTokens === 0) {
      const what = limits.maxCostUsd === 0 ? 'cost' : 'token';
      await this.commit([event('tool_failed', { callId, error: compact('budget_exhausted', `${tool}: this thread has none of its ${what} budget left to give agent ${settings.agent.name}`) })]);
      return;
    }
    let childThreadId: string;
    try {
      childThreadId = await this.services.children.launch({ parentThreadId: this.threadId, callId, agent: settings.agent.name, input: settings.inputOf(args), limits });
    } catch (error) {
      if (TwelveError.is(error, 'store_unavailable') || TwelveError.is(error, 'internal')) throw error;
      await this.commit([launchFailure(callId, tool, error)]);
      return;
    }
    const checkAt = new Date(Date.now() + this.services.children.checkMs).toISOString();
    await this.commit([event('child_started', { callId, childThreadId, agent: settings.agent.name, checkAt })]);
  }

  /** Who this thread's spend is attributed to (its launch metadata under TWELVE_TENANT_KEY). */
  private tenant(): string | undefined {
    return recordedTenantOf(this.state.metadata, this.services.tenants.key);
  }

  /** The tenant's daily cap, for checkBudget; undefined when the thread has no tenant or it has no cap. */
  private tenantLimit() {
    const name = this.tenant();
    const cap = tenantCap(this.services.tenants, name);
    if (name === undefined || cap === undefined) return undefined;
    return { name, cap, spend: () => this.services.store.tenantSpend(name, new Date().toISOString().slice(0, 10)) };
  }

  private async callModel(signal: AbortSignal | undefined): Promise<void> {
    const messages = this.events ? renderContext(this.release, this.events) : this.builder.messages();
    const request = buildRequest(this.release, messages);
    const breach = await checkBudget({
      release: this.release,
      state: this.state,
      request,
      prices: this.services.models.prices,
      dailySpend: () => this.services.store.dailySpend(this.release.agent.name, new Date().toISOString().slice(0, 10)),
      tenant: this.tenantLimit(),
    });
    if (breach) {
      await this.commit(await this.withFallback(breach));
      return;
    }
    let success;
    const span = this.trace?.step && this.services.tracer.child(this.trace.step, `chat ${modelRequestAttributes(this.release, this.threadId, 0)['gen_ai.request.model']}`, modelRequestAttributes(this.release, this.threadId, this.state.seq + 1), 'client');
    try {
      // A streaming agent's text reaches subscribers as it comes (never stored per token); the step's event will take seq + 1.
      const seq = this.state.seq + 1;
      let streamed = { attempt: '', length: 0 };
      const onText = this.release.agent.options.stream
        ? (attempt: string, text: string) => {
            if (streamed.attempt !== attempt) streamed = { attempt, length: 0 };
            this.services.publishDelta({ threadId: this.threadId, seq, attempt, offset: streamed.length, text });
            streamed.length += text.length;
          }
        : undefined;
      success = await callModel(this.services.models, this.release, request, { signal, onText, threadId: this.threadId });
      if (span) {
        span.set(modelResponseAttributes(success));
        if (this.services.tracer.captureContent) {
          const calls = success.result.content.flatMap((part) => (part.type === 'tool-call' ? [part] : []));
          const text = success.result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
          span.set(modelContentAttributes(this.services.viewRedactor, messages, { text, toolCalls: calls }));
        }
      }
    } catch (error) {
      if (span) {
        span.set({ 'twelve.retries': error instanceof ModelCallError || error instanceof ModelBlockedError ? error.failures.length : undefined });
        span.fail(error);
      }
      if (error instanceof ModelBlockedError) {
        // Retrying cannot help: wait for a person to fix the configuration (twelve resume).
        const message = error.message.replace(/\s+/g, ' ').slice(0, 2000);
        await this.commit(await this.withFallback(event('blocked', { error: { code: error.code, message }, failures: error.failures })));
        return;
      }
      if (!(error instanceof ModelCallError)) throw error;
      const sent = this.recordRequest(request);
      await this.commit(await this.withFallback(event('model_failed', { error: compact('model_call_failed', error.message), failures: error.failures, totalLatencyMs: error.totalLatencyMs, request: sent.request })), { request: sent });
      return;
    } finally {
      span?.end();
    }
    for (const problem of success.blocked) {
      this.services.logger.warn({ threadId: this.threadId, agent: this.release.agent.name, model: success.model }, `${problem.message}; answered by fallback ${success.model}`);
    }
    const { result } = success;
    const recorded = this.recordRequest(request);
    if (recorded.changedAt !== undefined) this.warnCacheBreak(recorded.changedAt, request.prompt);
    let text = '';
    const toolCalls: LanguageModelV3ToolCall[] = [];
    for (const part of result.content) {
      if (part.type === 'text') text += part.text;
      else if (part.type === 'tool-call' && !part.providerExecuted) toolCalls.push(part);
    }
    // Providers' call ids are not unique per thread (local servers reuse call_0), and some
    // servers repeat one id for every parallel call of a response.
    const used = new Set<string>();
    const taken = (id: string) => this.state.calls.has(id) || used.has(id);
    const callIds = toolCalls.map((call, index) => {
      let id = call.toolCallId;
      if (taken(id)) id = `${call.toolCallId}~${this.state.modelSteps + 1}`;
      if (taken(id)) id = `${call.toolCallId}~${this.state.modelSteps + 1}.${index + 1}`;
      used.add(id);
      return id;
    });
    const events: NewEvent[] = [
      event('model_called', {
        model: success.model,
        attempt: success.attempt,
        fallbackIndex: success.fallbackIndex,
        latencyMs: success.latencyMs,
        usage: success.usage,
        costUsd: success.costUsd,
        text,
        toolCalls: toolCalls.map((call, index) => ({ callId: callIds[index]!, tool: call.toolName })),
        finishReason: result.finishReason.unified,
        contextMessages: messages.length,
        ...(success.failures.length > 0 ? { failures: success.failures, totalLatencyMs: success.totalLatencyMs } : {}),
        request: recorded.request,
      }),
    ];
    const now = Date.now();
    toolCalls.forEach((call, index) => events.push(...this.requestTool(callIds[index]!, call, now)));
    if (toolCalls.length === 0) events.push(...this.finalAnswer(text, now));
    await this.commit(events, { request: recorded });
  }

  /** The request, scrubbed like the events: secrets, and the user's patterns for redactAtWrite (model/request-record.ts). */
  private recordRequest(request: Parameters<typeof recordRequest>[0]) {
    const redactor = this.services.writeRedactor(this.release.agent.name);
    // One scrub function per session: the record caches each message's scrubbed text by message and scrub.
    if (!redactor.empty) this.scrub ??= (text) => redactor.scrubText(text);
    return recordRequest(request, redactor.empty ? undefined : this.scrub, this.lastRequest);
  }

  /**
   * Said once per session: this step's request changed a message the previous one sent, so
   * providers' prompt caches hold nothing past it (the default rendering only appends; a
   * renderContext that rewrites early messages or puts a step counter in the system prompt does
   * this). A conversation's context window moving does it by design: not said for those agents.
   */
  private warnCacheBreak(index: number, prompt: readonly { role: string }[]): void {
    if (this.cacheBreakSaid || this.release.limits.maxContextTokens !== undefined || this.release.limits.maxTurns !== undefined) return;
    this.cacheBreakSaid = true;
    const role = prompt[index]?.role ?? 'removed';
    const rewrites = this.release.cache === 'auto' && this.release.models.some((model) => model.startsWith('anthropic:'));
    this.services.logger.warn(
      { threadId: this.threadId, agent: this.release.agent.name, message: index, role },
      `prompt cache: step ${this.state.modelSteps + 1} changed message ${index + 1} (${role}) of the previous step's request, so providers bill it and everything after it at the full input price again` +
        (rewrites ? ' (Anthropic, asked to cache, writes it again at 1.25x: costlier than cache off)' : '') +
        '; keep the system prompt and earlier messages the same from step to step (README "Prompt caching")',
    );
  }

  /** The failure, followed by the non-LLM fallback's answer when the agent has one for it (runtime/fallback.ts). */
  private withFallback(failure: NewEvent): Promise<NewEvent[]> {
    return withFallback({ release: this.release, state: this.state, logger: this.services.logger, failure, now: Date.now() });
  }

  /**
   * tool_requested, plus in the same transaction either an immediate compact tool_failed
   * (the call cannot run at all) or approval_requested (a person must approve it first).
   */
  private requestTool(callId: string, call: LanguageModelV3ToolCall, now: number): NewEvent[] {
    let args: unknown;
    try {
      args = call.input.trim() === '' ? {} : JSON.parse(call.input);
    } catch (error) {
      return [
        event('tool_requested', { callId, tool: call.toolName, args: null, argsText: clipText(call.input, 2000), source: 'model' }),
        event('tool_failed', { callId, error: compact('invalid_json', `arguments are not valid JSON (${(error as Error).message}); send one JSON object`) }),
      ];
    }
    const requested = event('tool_requested', { callId, tool: call.toolName, args, source: 'model' });
    const tool = this.release.agent.tools.get(call.toolName);
    if (!tool) {
      const available = [...this.release.agent.tools.keys()].join(', ') || 'none';
      return [requested, event('tool_failed', { callId, error: compact('unknown_tool', `there is no tool "${call.toolName}"; available: ${available}`) })];
    }
    const parsed = tool.input.safeParse(args);
    if (!parsed.success) {
      return [requested, event('tool_failed', { callId, error: compact('invalid_arguments', `${call.toolName}: ${zodIssues(parsed.error)}`) })];
    }
    const approval = approvalRequest(this.release, this.state, { callId, tool: call.toolName, args }, now);
    return approval ? [requested, approval] : [requested];
  }

  private finalAnswer(text: string, now: number): NewEvent[] {
    const schema = this.release.agent.outputSchema;
    if (!schema) {
      if (!text.trim()) return [event('model_output_invalid', { text, error: compact('empty_answer', 'the answer was empty; reply with the final answer or call a tool') })];
      return completionEvents({ release: this.release, state: this.state, output: text, source: 'model', now });
    }
    const json = parseJsonAnswer(text);
    if (!json.ok) return [event('model_output_invalid', { text, error: compact('invalid_json', json.message) })];
    const parsed = schema.safeParse(json.value);
    if (!parsed.success) return [event('model_output_invalid', { text, error: compact('invalid_output', zodIssues(parsed.error)) })];
    return completionEvents({ release: this.release, state: this.state, output: toJsonValue(parsed.data), source: 'model', now });
  }

  private async runTool(callId: string, attempt: number, now: number, signal: AbortSignal | undefined): Promise<void> {
    const call = this.state.calls.get(callId)!;
    const tool = this.release.agent.tools.get(call.tool);
    // The release may have changed since the call was requested: re-check before running.
    if (!tool) {
      await this.commit([event('tool_failed', { callId, error: compact('unknown_tool', `tool "${call.tool}" is not in release ${this.release.releaseId}`) })]);
      return;
    }
    const parsed = tool.input.safeParse(call.args);
    if (!parsed.success) {
      await this.commit([event('tool_failed', { callId, error: compact('invalid_arguments', `${call.tool}: ${zodIssues(parsed.error)}`) })]);
      return;
    }
    // The approval gate, checked against the release running now (it may be stricter than
    // the one that requested the call): no recorded approval, no run.
    if (!call.approval) {
      const approval = approvalRequest(this.release, this.state, { callId, tool: call.tool, args: call.args }, now);
      if (approval) {
        await this.commit([approval]);
        return;
      }
    } else if (call.approval.decision?.approved !== true) {
      throw new TwelveError('internal', `thread ${this.threadId}: refusing to run ${call.tool} (${callId}) without a recorded approval`);
    }
    if (tool.human) {
      const question = askHumanInput.parse(parsed.data);
      await this.commit([
        event('human_asked', {
          callId,
          question: question.question,
          urgency: question.urgency,
          ...(question.options ? { options: question.options } : {}),
          ...(tool.human.timeoutMs ? { deadline: new Date(now + tool.human.timeoutMs).toISOString() } : {}),
          ...(tool.human.defaultAnswer ? { defaultAnswer: tool.human.defaultAnswer } : {}),
        }),
      ]);
      return;
    }
    const idempotencyKey = `${this.threadId}:${callId}`;
    if (this.state.replayOf && (tool.effect ?? 'external') !== 'pure') {
      this.recorded ??= new RecordedResults(this.state.replayOf, await this.services.store.loadEvents(this.state.replayOf));
      const ctx = {
        threadId: this.threadId,
        callId,
        idempotencyKey,
        attempt,
        agent: this.release.agent.name,
        signal: signal ?? new AbortController().signal,
        logger: this.services.logger.child({ threadId: this.threadId, callId, tool: call.tool }),
      };
      await this.commit(await shadowToolEvents({ callId, tool, input: parsed.data, args: call.args, ctx, state: this.state, recorded: this.recorded }));
      return;
    }
    const child = childOf(tool);
    if (child) {
      await this.startChild(callId, call.tool, child, parsed.data);
      return;
    }
    // The bracket: once tool_started is durable, a crash leads to a re-run with the same key, and
    // decide counts the interrupted runs (past the tool's maxAttempts, a person says whether it happened).
    // Pure and idempotent tools skip it: two commits per tool step instead of three (tool_requested
    // with the model call, then the outcome). What that trades: a run interrupted by a dying worker
    // leaves no trace, so it is simply run again (same key, attempt not advanced) and is never
    // counted, never given up on; harmless for a tool that declared a re-run harmless.
    if ((tool.effect ?? 'external') === 'external') await this.commit([event('tool_started', { callId, idempotencyKey, attempt })]);
    const span = this.trace?.step && this.services.tracer.child(this.trace.step, `execute_tool ${call.tool}`, toolAttributes(this.release, { threadId: this.threadId, seq: this.state.seq + 1, tool: call.tool, callId, attempt, effect: tool.effect ?? 'external' }));
    const started = performance.now();
    const timeoutMs = tool.timeoutMs ?? 60_000;
    const stop = new ToolStop(timeoutMs, signal);
    let outcome: NewEvent;
    const blobs: NewBlob[] = [];
    let run: Promise<unknown> | undefined;
    try {
      const services = this.services;
      const threadId = this.threadId;
      let logger: ToolContext['logger'] | undefined;
      const ctx: ToolContext = {
        threadId,
        callId,
        idempotencyKey,
        attempt,
        agent: this.release.agent.name,
        // Both made on first use: most tools read neither (see runtime/tool-stop.ts).
        get signal() {
          return stop.signal;
        },
        get logger() {
          return (logger ??= services.logger.child({ threadId, callId, tool: call.tool }));
        },
      };
      // The implementation bound in this release (TWELVE_TOOL_<NAME>, config toolBindings): live by default.
      run = Promise.resolve(boundRun(tool, this.release.toolBindings[tool.name]?.implementation)(parsed.data, ctx));
      const raw = await stop.race(run);
      if (isSleepRequest(raw)) {
        outcome = event('tool_sleeping', { callId, until: raw.until.toISOString(), ...(raw.reason ? { reason: raw.reason } : {}) });
      } else {
        let result = raw;
        if (tool.output) {
          const checked = tool.output.safeParse(raw);
          if (!checked.success) throw new TwelveError('internal', `${call.tool} returned a result that fails its output schema: ${zodIssues(checked.error)}`);
          result = checked.data;
        }
        const redactor = this.services.writeRedactor(this.release.agent.name);
        const limited = limitResult(toJsonValue(result), this.services.maxPayloadBytes, redactor.empty ? undefined : (text) => redactor.scrubText(text));
        if (limited.blob) blobs.push(limited.blob);
        outcome = event('tool_succeeded', { callId, result: limited.result, durationMs: elapsed(started), ...(limited.ref ? { blob: limited.ref } : {}) });
      }
    } catch (error) {
      // Shutting down: leave the call open (it re-runs with the same key), but the run may go on.
      if (signal?.aborted && !stop.timedOut) {
        span?.set({ 'twelve.abandoned': true });
        span?.end();
      }
      if (signal?.aborted && !stop.timedOut) throw new AbandonedStep(this.threadId, callId, run ? run.then(noop, noop) : Promise.resolve());
      const message = stop.timedOut ? `timed out after ${timeoutMs} ms` : errorMessage(error);
      outcome = event('tool_failed', { callId, error: compact(stop.timedOut ? 'tool_timeout' : 'tool_error', `${call.tool}: ${message}`), durationMs: elapsed(started) });
    } finally {
      stop.clear();
    }
    if (span) this.endToolSpan(span, outcome, call.args);
    await this.commit([outcome], { blobs });
  }

  private endToolSpan(span: TraceSpan, outcome: NewEvent, args: unknown): void {
    if (outcome.type === 'tool_failed') span.fail(outcome.data.error.message, outcome.data.error.code);
    if (this.services.tracer.captureContent) {
      const result = outcome.type === 'tool_succeeded' ? outcome.data.result : outcome.type === 'tool_failed' ? outcome.data.error : outcome.data;
      const { viewRedactor } = this.services;
      span.set({ 'gen_ai.tool.call.arguments': viewRedactor.scrub(JSON.stringify(args)), 'gen_ai.tool.call.result': viewRedactor.scrub(JSON.stringify(result)) });
    }
    span.end();
  }
}

/** The notification for an event that starts a wait for a person, if it is one. */
function waitNotification(e: ThreadEvent, state: ThreadState): NotificationPayload | undefined {
  const base = { id: `${e.threadId}:${e.seq}`, threadId: e.threadId, agent: state.agent, seq: e.seq, at: e.at, data: e.data as Record<string, unknown> };
  switch (e.type) {
    case 'approval_requested':
      return { ...base, kind: 'approval', summary: `Approve ${e.data.tool}? ${e.data.reason}` };
    case 'human_asked':
      return { ...base, kind: 'question', summary: e.data.question };
    case 'escalated':
      return { ...base, kind: 'escalation', summary: e.data.reason };
    case 'budget_exceeded':
      return { ...base, kind: 'budget', summary: e.data.message };
    case 'review_requested':
      return { ...base, kind: 'review', summary: `Review the answer: ${e.data.reason}` };
    case 'blocked':
      return { ...base, kind: 'blocked', summary: `Blocked by its configuration: ${e.data.error.message}` };
    case 'release_changed':
      // Only a hold waits for a person (to resume or cancel the thread on the new release).
      return e.data.decision === 'hold' ? { ...base, kind: 'release', summary: `Held after a deploy (${e.data.from} → ${e.data.to}): ${e.data.reason}` } : undefined;
    default:
      return undefined;
  }
}

const noop = () => undefined;

/** A person or a timer holds the thread: the segment that resumes it links to where the wait began. */
function isWaiting(status: ThreadState['status']): boolean {
  return waitingStatuses.includes(status) || status === 'sleeping';
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
