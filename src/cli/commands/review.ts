/** `twelve review`: output review (issue 10 helper fills it in). */
import { TwelveError } from '../../errors.js';
import type { CommandSpec } from '../command.js';

export const review: CommandSpec = {
  name: 'review',
  summary: 'final answers waiting for review: approve, edit, send back or reject them',
  usage: ['review [ls] [--agent a] [--json]', 'review show <thread>', 'review approve|reject <thread> [--comment text]', 'review edit <thread> --output <json|@file> [--comment text]', 'review send-back <thread> --feedback <text>'],
  flags: {},
  async run() {
    throw new TwelveError('internal', 'twelve review is not built yet');
  },
};
