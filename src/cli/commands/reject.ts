/** `twelve reject`: reject a tool call that waits for approval; the model sees who and why, and re-plans. */
import { followFlags, humanActionCommand } from '../human-action.js';

export const reject = humanActionCommand(
  'reject',
  'reject it (the model sees who and why, and re-plans)',
  { comment: 'why (the model reads it)', ...followFlags },
);
