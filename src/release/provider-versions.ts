/**
 * The installed version of each AI SDK provider package an agent's models use, as the
 * project would resolve it (node_modules from the project directory up). Read from the
 * package's package.json on disk rather than through `require`, since the packages'
 * export maps need not expose it. null when the package is not installed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseModelId } from '../model/model-id.js';
import { providerPackages } from '../model/providers.js';

/** A function from a model chain to {package: version | null}; each package's version is read once. */
export function providerPackageVersions(projectDir: string): (models: readonly string[]) => Record<string, string | null> {
  const require = createRequire(join(projectDir, 'package.json'));
  const known = new Map<string, string | null>();
  const versionOf = (name: string): string | null => {
    if (!known.has(name)) known.set(name, readVersion(require, name));
    return known.get(name)!;
  };
  return (models) => {
    const found: Record<string, string | null> = {};
    for (const id of models) {
      const name = providerPackages[parseModelId(id).provider];
      if (name) found[name] = versionOf(name);
    }
    return found;
  };
}

function readVersion(require: NodeJS.Require, name: string): string | null {
  for (const directory of require.resolve.paths(name) ?? []) {
    const manifest = join(directory, name, 'package.json');
    if (!existsSync(manifest)) continue;
    try {
      const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
      return typeof version === 'string' ? version : null;
    } catch {
      return null;
    }
  }
  return null;
}
