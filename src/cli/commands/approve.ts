/** `twelve approve`: approve a tool call that waits for approval. */
import { followFlags, humanActionCommand } from '../human-action.js';

export const approve = humanActionCommand(
  'approve',
  'approve a call that waits for approval',
  { comment: 'why (recorded with the decision)', ...followFlags },
  'Name the call when several wait (the error lists their ids). A second decision on the same call is refused:\nthe first stands. Only the agent\'s approvers may decide.',
);
