/** `twelve dev`: API + worker + web console in one process on the embedded store. */
import type { CommandSpec } from '../command.js';
import { serveProcess } from './serve.js';

export const dev: CommandSpec = {
  name: 'dev',
  summary: 'API + worker + web console in one process: open the printed URL',
  usage: ['dev'],
  flags: {},
  details:
    'Listens on TWELVE_HOST (default 127.0.0.1) and PORT (default 4120). On loopback it signs the console in with a fresh\nkey of every role and prints it (for this run only). For production use twelve serve and twelve worker.',
  run: (args, flags) => serveProcess('dev', args, flags),
};
