/** `twelve pause`: a paused thread is never claimed until someone resumes it. */
import { humanActionCommand } from '../human-action.js';

export const pause = humanActionCommand(
  'pause',
  'pause a thread (never claimed until resumed)',
  { reason: 'why (recorded)' },
  'A thread a worker is running right now is paused after its current step. Continue it with twelve resume.',
);
