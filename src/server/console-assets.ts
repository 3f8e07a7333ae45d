/**
 * The web console's static files (console/ at the package root), read once at start and
 * served from memory: no path from a request ever reaches the file system.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

export interface ConsoleAssets {
  get(name: string): { body: Buffer | string; type: string } | undefined;
}

/** The files are served as they are: no page carries a key (`twelve dev`'s comes from GET /dev/session). */
export function loadConsoleAssets(options: { dir?: string } = {}): ConsoleAssets | undefined {
  // dist/server/ and src/server/ are both two levels below the package root.
  const dir = options.dir ?? fileURLToPath(new URL('../../console/', import.meta.url));
  if (!existsSync(dir)) return undefined;
  const files = new Map<string, { body: Buffer | string; type: string }>();
  const walk = (folder: string, prefix: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(folder, entry.name), `${prefix}${entry.name}/`);
      else if (types[extname(entry.name)]) files.set(`${prefix}${entry.name}`, { body: readFileSync(join(folder, entry.name)), type: types[extname(entry.name)]! });
    }
  };
  walk(dir, '');
  return { get: (name) => files.get(name === '' ? 'index.html' : name) };
}

/** examples/chat/ (a checkout's example chat page), served at /chat/ beside the console; undefined where it is not (an installed package). */
export function loadChatExample(): ConsoleAssets | undefined {
  return loadConsoleAssets({ dir: fileURLToPath(new URL('../../examples/chat/', import.meta.url)) });
}
