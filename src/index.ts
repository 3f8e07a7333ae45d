/**
 * twelve-agents: the public API. Agents are declared with defineAgent/defineTool and
 * run by a Runtime over an append-only thread log.
 */
export { defineAgent, isAgent, type Agent, type AgentOptions, type AgentLimits, type ModelSettings, type PrefetchStep, type RenderContextOptions, type ReviewContext, type ReviewVerdict } from './agent/define-agent.js';
export type { FallbackContext } from './agent/define-agent.js';
export { defineTool, callAgainAt, type Tool, type ToolContext, type ToolOptions, type ToolEffect, type ApprovalPolicy, type ApprovalContext, type SleepRequest } from './agent/define-tool.js';
export { askHuman, type AskHumanOptions } from './agent/ask-human.js';
export type { DeciderSpec } from './agent/deciders.js';
export { signWebhook, verifyWebhook, type VerifyResult, type WebhookDirection } from './notify/webhook.js';
export type { NotificationPayload } from './notify/types.js';
export type { Human } from './runtime/approval.js';
export type { HumanAction } from './runtime/human.js';
export { createRelease, type AgentRelease, type AgentOverrides, type ToolSpec } from './agent/release.js';
export { defineConfig, type ProjectConfig } from './config/project.js';
export { mcpTools, connectMcpTools, type McpToolSet, type McpToolsOptions, type McpServerConfig, type McpStdioServer, type McpHttpServer, type McpConnections } from './mcp/index.js';
export { implementationNames, type ToolBinding } from './agent/tool-binding.js';
export { loadConfig, agentEnvPrefix, type TwelveConfig, type ModelMode } from './config/env.js';
export { TwelveError, SeqConflictError, type TwelveErrorCode } from './errors.js';
export { createRuntime, Runtime, type RuntimeOptions, type LaunchOptions, type RunOutcome, type EventListener, type ActionResult } from './runtime/runtime.js';
export type { ForkOptions } from './runtime/fork.js';
export type { Worker, WorkerOptions } from './worker/worker.js';
export type { ModelDelta, DeltaListener } from './stream/delta-bus.js';
export { eventTypes, threadEventSchema, newEventSchema, type ThreadEvent, type NewEvent, type EventType, type EventData, type CompactError } from './thread/events.js';
export { decide, type Decision } from './thread/decide.js';
export { agentTool, type AgentTool, type AgentToolOptions } from './agent/agent-tool.js';
export { foldEvents, threadStatuses, waitingStatuses, type ThreadState, type ThreadStatus } from './thread/state.js';
export { renderContext, defaultRenderContext, type ContextMessage } from './thread/render-context.js';
export { parseModelId, floatingReason, type ModelId } from './model/model-id.js';
export { PriceTable, defaultPrices, type ModelPrice } from './model/prices.js';
export { scriptedModel, type ScriptedModel, type ScriptedReply, type ScriptedUsage, type Script } from './model/scripted.js';
export { openStore } from './store/open.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
export type { Store, ThreadRecord, ThreadSummary, ListThreadsOptions, ClaimOptions } from './store/types.js';
export { defineEval, isEvalSuite, type EvalSuite, type EvalOptions, type ScorerSpec, type JudgeSpec } from './eval/define-eval.js';
export type { EvalCase, Expectations, ToolFixture, ToolCallExpectation, HumanScript, Scorer, ScoreResult, CaseRun, CaseResult, EvalSummary, EvalRunRecord } from './eval/types.js';
export { version } from './version.js';
