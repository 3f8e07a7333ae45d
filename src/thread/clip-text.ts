/**
 * Shortens text for a model or a log line while keeping both ends: the start says what it
 * was, and the end is where malformed JSON usually breaks (an answer cut off mid-object).
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = (left: number) => ` …[${left} characters left out]… `;
  const room = Math.max(0, max - marker(text.length).length);
  const head = Math.ceil(room * 0.7);
  const tail = room - head;
  return `${text.slice(0, head)}${marker(text.length - head - tail)}${tail > 0 ? text.slice(-tail) : ''}`;
}
