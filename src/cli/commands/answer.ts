/** `twelve answer`: answer the agent's question, or guide an escalated thread. */
import { followFlags, humanActionCommand } from '../human-action.js';

export const answer = humanActionCommand(
  'answer',
  'answer the agent\'s question, or guide an escalated thread',
  { ...followFlags },
  'The answer becomes the ask_human tool\'s result. For a thread escalated after repeated errors, or stopped by a\nbudget, the text is guidance the model reads when the thread goes on.',
);
