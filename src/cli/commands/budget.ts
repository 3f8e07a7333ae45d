/** `twelve budget`: change a thread's limits (after a budget breach, or at any time). */
import { followFlags, humanActionCommand } from '../human-action.js';

export const budget = humanActionCommand(
  'budget',
  'raise this thread\'s limits',
  {
    'max-cost-usd': 'the thread\'s new cost limit in USD',
    'max-tokens': 'the thread\'s new token limit',
    'max-steps': 'the thread\'s new model-step limit',
    comment: 'why (recorded)',
    ...followFlags,
  },
);
