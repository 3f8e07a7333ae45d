/** `twelve eval proposals`: not built yet on main (issue 10 helpers fill it in). */
import { TwelveError } from '../../errors.js';
import type { Flags } from '../command.js';

export async function evalProposals(args: string[], flags: Flags): Promise<number> {
  void args;
  void flags;
  throw new TwelveError('internal', 'twelve eval proposals is not built yet');
}
