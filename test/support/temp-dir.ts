/** Temporary folders for real SQLite files and recordings, removed when the test ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'twelve-test-'));
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A fresh folder for the current test; removed once the test has finished. Call inside a test. */
export function tempDir(): string {
  const dir = makeTempDir();
  onTestFinished(() => removeDir(dir));
  return dir;
}

/** Runs `fn` with a fresh folder and removes it afterwards, whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = makeTempDir();
  try {
    return await fn(dir);
  } finally {
    removeDir(dir);
  }
}
