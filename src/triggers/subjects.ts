/**
 * NATS subject helpers for the broker triggers: does one subject pattern cover another,
 * and which agent a launch subject (`twelve.launch.<agent>`) names.
 */

/** True when every subject that `subject` matches is also matched by `pattern` (tokens, `*`, `>`). */
export function subjectCovers(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i]!;
    if (token === '>') return i < s.length;
    if (i >= s.length) return false;
    if (s[i] === '>') return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * The agent a message subject names, given the consumer's filter: whatever the filter's
 * trailing wildcard matched (`twelve.launch.>` + `twelve.launch.refunds` -> `refunds`).
 * Undefined when the filter has no trailing wildcard or the subject has nothing there.
 */
export function agentFromFilter(filter: string, subject: string): string | undefined {
  const f = filter.split('.');
  const last = f[f.length - 1];
  if (last !== '>' && last !== '*') return undefined;
  const s = subject.split('.');
  const rest = s.slice(f.length - 1);
  if (rest.length === 0 || (last === '*' && rest.length !== 1)) return undefined;
  const name = rest.join('.');
  return name.length > 0 ? name : undefined;
}

/** `2.10.4` >= `2.10.4`; unparseable versions compare as 0.0.0. */
export function versionAtLeast(version: string | undefined, minimum: string): boolean {
  const parse = (v: string | undefined) => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v ?? '') ?? []).slice(1, 4).map(Number);
  const [a = 0, b = 0, c = 0] = parse(version);
  const [x = 0, y = 0, z = 0] = parse(minimum);
  return a !== x ? a > x : b !== y ? b > y : c >= z;
}
