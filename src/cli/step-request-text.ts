/** `twelve threads show --messages`: each model step's request (what the model saw) and its response, as text. */
import { formatBytes } from '../blobs/blob.js';
import type { StepRequest } from '../replay/step-requests.js';
import { cacheText } from './format.js';

type Part = { type: string; text?: string; toolName?: string; input?: unknown; output?: { type: string; value?: unknown } };
type Message = { role: string; content: string | Part[] };

export function renderStepRequests(steps: Array<Omit<StepRequest, 'request'> & { request?: unknown }>): string {
  if (steps.length === 0) return 'no model steps yet';
  return steps.map(renderStep).join('\n\n');
}

function renderStep(step: Omit<StepRequest, 'request'> & { request?: unknown }): string {
  const lines: string[] = [];
  const source =
    step.source === 'stored'
      ? `stored request ${step.ref} (${formatBytes(step.bytes ?? 0)})`
      : step.source === 're-derived'
        ? `re-derived request (${step.note})`
        : `no request: ${step.note}`;
  lines.push(`── step ${step.step} (seq ${step.seq}) · ${step.model} · release ${step.releaseId} · ${source}`);
  const request = step.request as (Record<string, unknown> & { prompt?: Message[]; tools?: Array<{ name: string }> }) | undefined;
  if (request) {
    lines.push(`settings: ${settingsText(request)}`);
    lines.push(`tools offered: ${request.tools?.length ? request.tools.map((tool) => tool.name).join(', ') : 'none'}`);
    for (const message of request.prompt ?? []) lines.push(...messageLines(message));
  }
  const r = step.response;
  const calls = r.toolCalls.map((call) => `${call.tool} (${call.callId})`).join(', ');
  lines.push(`response: ${calls ? `calls ${calls}` : 'answer'} · finish ${r.finishReason} · ${r.usage.inputTokens} in${cacheText(r.usage)} / ${r.usage.outputTokens} out tokens${r.costUsd === null ? ' · unpriced' : ` · $${r.costUsd.toFixed(6)}`}`);
  if (r.text) lines.push(indent(r.text));
  return lines.join('\n');
}

function settingsText(request: Record<string, unknown>): string {
  const shown: string[] = [];
  for (const key of ['temperature', 'maxOutputTokens', 'topP', 'topK', 'seed'] as const) if (request[key] !== undefined) shown.push(`${key} ${String(request[key])}`);
  const choice = request.toolChoice as { type: string; toolName?: string } | undefined;
  if (choice) shown.push(`toolChoice ${choice.toolName ?? choice.type}`);
  const format = request.responseFormat as { type: string; name?: string } | undefined;
  if (format) shown.push(`responseFormat ${format.type}${format.name ? ` (${format.name})` : ''}`);
  return shown.join(', ') || 'provider defaults';
}

function messageLines(message: Message): string[] {
  if (typeof message.content === 'string') return [`[${message.role}]`, indent(message.content)];
  const lines = [`[${message.role}]`];
  for (const part of message.content) {
    if (part.type === 'text') lines.push(indent(part.text ?? ''));
    else if (part.type === 'tool-call') lines.push(indent(`call ${part.toolName} ${JSON.stringify(part.input)}`));
    else if (part.type === 'tool-result') {
      const value = part.output?.value;
      lines.push(indent(`result of ${part.toolName}: ${typeof value === 'string' ? value : JSON.stringify(value)}`));
    } else lines.push(indent(`(${part.type})`));
  }
  return lines;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
