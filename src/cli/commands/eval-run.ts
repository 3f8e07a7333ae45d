/** `twelve eval run`: not built yet on main (issue 10 helpers fill it in). */
import { TwelveError } from '../../errors.js';
import type { Flags } from '../command.js';

export async function evalRun(args: string[], flags: Flags): Promise<number> {
  void args;
  void flags;
  throw new TwelveError('internal', 'twelve eval run is not built yet');
}
