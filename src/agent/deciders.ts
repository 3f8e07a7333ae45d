/**
 * Who may approve a call or answer a question: roles, and people named explicitly. They
 * are kept apart on purpose: a plain string is a role, so a person or an API key that
 * happens to be named `finance` does not satisfy `approvers: ['finance']`; only someone
 * given the finance role (TWELVE_HUMANS, or the caller's roles) does.
 */
import { TwelveError } from '../errors.js';

/**
 * As an agent writes it: `['finance', 'support-lead']` (roles), or
 * `{ roles: ['finance'], people: ['alice@example.com'] }` to also name people
 * (a person is the name an API key or `--as` acts under). Empty: anyone.
 */
export type DeciderSpec = readonly string[] | { roles?: readonly string[]; people?: readonly string[] };

export interface Deciders {
  roles: string[];
  people: string[];
}

export const anyone: Deciders = { roles: [], people: [] };

/** Normalises an agent's spec; throws agent_invalid naming `where` for anything else. */
export function parseDeciders(spec: DeciderSpec | undefined, where: string): Deciders {
  if (spec === undefined) return { roles: [], people: [] };
  const list = (value: unknown, field: string): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string' || entry.trim() === '')) {
      throw new TwelveError('agent_invalid', `${where}${field} must be a list of non-empty names`);
    }
    return [...new Set(value as string[])];
  };
  if (Array.isArray(spec)) return { roles: list(spec, ''), people: [] };
  if (typeof spec === 'object' && spec !== null) {
    const unknown = Object.keys(spec).filter((key) => key !== 'roles' && key !== 'people');
    if (unknown.length === 0) {
      const { roles, people } = spec as { roles?: unknown; people?: unknown };
      return { roles: list(roles, '.roles'), people: list(people, '.people') };
    }
  }
  throw new TwelveError('agent_invalid', `${where} must be a list of roles (['finance']) or { roles: [...], people: [...] }`);
}

/** One line for messages and timelines: "roles finance, support-lead; people alice". */
export function describeDeciders({ roles, people }: Deciders): string {
  if (roles.length === 0 && people.length === 0) return 'anyone';
  const parts = [];
  if (roles.length > 0) parts.push(`role${roles.length === 1 ? '' : 's'} ${roles.join(', ')}`);
  if (people.length > 0) parts.push(`${people.length === 1 ? 'person' : 'people'} ${people.join(', ')}`);
  return parts.join('; ');
}
