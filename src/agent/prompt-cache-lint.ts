/**
 * What in an agent's prompt template would defeat provider prompt caching, in words
 * (`twelve agents ls` shows it under the agent). Providers cache the start of a request that
 * repeats byte for byte: the tools, then the system prompt, then the messages. Twelve keeps that
 * start stable (the log is append-only), so what can break it is the template: a value that
 * changes from step to step or from thread to thread placed in the system prompt, which comes
 * before every message. Pure: reads the template text only.
 */
import { placeholders } from '../thread/template.js';

/** The variables the system prompt is rendered with (thread/render-context.ts), each the same at every step of a thread. */
export const templateVariables = ['input', 'purpose', 'agent', 'tools'] as const;

export interface PromptCacheWarning {
  /** unknown_placeholder: renders empty, and reads like a value meant to change per step; input_in_prompt: differs per thread. */
  code: 'unknown_placeholder' | 'input_in_prompt';
  /** The placeholder as written, e.g. "{{now}}". */
  placeholder: string;
  message: string;
}

/** Words that make a name read like a value that changes per step or per call: a time, a counter, a remaining budget. */
const changingWords = new Set([
  'now', 'time', 'timestamp', 'date', 'datetime', 'today', 'clock', 'step', 'steps', 'turn', 'turns', 'count', 'counter',
  'iteration', 'remaining', 'left', 'budget', 'spent', 'elapsed', 'random', 'uuid', 'nonce', 'seq',
]);

/** Whether a placeholder's name has such a word: `{{current_time}}`, `{{stepCount}}`, `{{budget.left}}`; not `{{account}}`. */
function readsAsChanging(path: string): boolean {
  return path
    .split(/[._-]|(?<=[a-z0-9])(?=[A-Z])/)
    .some((word) => changingWords.has(word.toLowerCase()));
}

export function promptCacheWarnings(template: string): PromptCacheWarning[] {
  const warnings: PromptCacheWarning[] = [];
  const seen = new Set<string>();
  for (const path of placeholders(template)) {
    if (seen.has(path)) continue;
    seen.add(path);
    const root = path.split('.')[0]!;
    const placeholder = `{{${path}}}`;
    if (!(templateVariables as readonly string[]).includes(root)) {
      const why = readsAsChanging(path)
        ? ' If it was meant to bring a value that changes from step to step (a time, a counter, the remaining budget), that has no place in the system prompt: it comes before every message, so each step would change the start of the request and providers could cache nothing.'
        : '';
      warnings.push({
        code: 'unknown_placeholder',
        placeholder,
        message:
          `${placeholder} is not a template variable (${templateVariables.map((v) => `{{${v}}}`).join(', ')}): it renders as an empty string.${why}` +
          ' Pass such values in the thread input or a tool result instead.',
      });
    } else if (root === 'input') {
      warnings.push({
        code: 'input_in_prompt',
        placeholder,
        message:
          `${placeholder} puts the thread's input in the system prompt: every thread's prompt then differs right after the tools, so threads share no cached prefix ` +
          '(each pays a cache write where Anthropic is asked to cache). The input is already the first user message; leave it out of the template.',
      });
    }
  }
  return warnings;
}
