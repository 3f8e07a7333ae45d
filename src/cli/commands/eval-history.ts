/** `twelve eval history`: not built yet on main (issue 10 helpers fill it in). */
import { TwelveError } from '../../errors.js';
import type { Flags } from '../command.js';

export async function evalHistory(args: string[], flags: Flags): Promise<number> {
  void args;
  void flags;
  throw new TwelveError('internal', 'twelve eval history is not built yet');
}
