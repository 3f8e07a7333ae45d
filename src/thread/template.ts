/** `{{name}}` / `{{input.field}}` placeholders; pure. Unknown names render as an empty string. */
const placeholder = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;

export function renderTemplate(template: string, variables: Record<string, unknown>): string {
  return template.replace(placeholder, (_match, path: string) => {
    let value: unknown = variables;
    for (const key of path.split('.')) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

export function placeholders(template: string): string[] {
  return [...template.matchAll(placeholder)].map((match) => match[1]!);
}
