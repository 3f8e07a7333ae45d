/** `twelve cancel`: stop a thread for good. */
import { humanActionCommand } from '../human-action.js';

export const cancel = humanActionCommand(
  'cancel',
  'cancel a thread',
  { reason: 'why (recorded)' },
  'A cancel that arrives during a tool run lets the run finish and be recorded, then stops the thread.',
);
