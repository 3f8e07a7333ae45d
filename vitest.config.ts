import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn child processes and SQLite files; two cores, so keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    // One PostgreSQL for the run: TWELVE_TEST_DATABASE_URL, or a throwaway embedded server.
    globalSetup: ['test/setup/postgres.ts'],
  },
});
