/**
 * ask_human: a built-in tool the model calls to ask a person a question. The thread
 * waits (status awaiting_human, durably) until someone answers with `twelve answer`
 * or the runtime API; the answer becomes the tool result.
 */
import { z } from 'zod';
import { parseDeciders, type DeciderSpec } from './deciders.js';
import { defineTool, type Tool } from './define-tool.js';

export interface AskHumanOptions {
  /** After this long without an answer, `defaultAnswer` is given (by "timeout"). Default: wait forever. */
  timeoutMs?: number;
  defaultAnswer?: string;
  /** Who may answer: roles (`['support']`), or `{ roles, people }` to also name people. Default: anyone. */
  answerers?: DeciderSpec;
  /** Override the description the model reads. */
  description?: string;
}

export const askHumanInput = z.object({
  question: z.string().min(1).max(2000).describe('The question, complete enough to answer without other context'),
  urgency: z.enum(['low', 'normal', 'high']).default('normal').describe('How soon an answer is needed'),
  options: z.array(z.string().min(1)).max(10).optional().describe('Possible answers, when the choice is closed'),
});

/** @example defineAgent({ ..., tools: [lookupOrder, askHuman({ timeoutMs: 3_600_000, defaultAnswer: 'no' })] }) */
export function askHuman(options: AskHumanOptions = {}): Tool {
  const answerers = parseDeciders(options.answerers, 'askHuman: answerers');
  const tool = defineTool({
    name: 'ask_human',
    description:
      options.description ??
      'Ask a human operator a question when you lack information or authority to proceed. The answer comes back as this tool result; it may take a while.',
    input: askHumanInput,
    run: () => {
      // Never called: the runtime records human_asked instead of running this tool.
      throw new Error('ask_human is answered by a person, not run');
    },
  });
  return Object.assign(tool, {
    human: { timeoutMs: options.timeoutMs, defaultAnswer: options.defaultAnswer, answerers: answerers.roles, people: answerers.people },
  }) as Tool;
}
