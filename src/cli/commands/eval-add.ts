/** `twelve eval add`: not built yet on main (issue 10 helpers fill it in). */
import { TwelveError } from '../../errors.js';
import type { Flags } from '../command.js';

export async function evalAdd(args: string[], flags: Flags): Promise<number> {
  void args;
  void flags;
  throw new TwelveError('internal', 'twelve eval add is not built yet');
}
