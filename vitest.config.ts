import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Hang guards, not speed targets: tests wait on progress, and a loaded 2-core machine (two
    // suites side by side) takes 30 s over the CLI-heavy ones that spawn a dozen processes.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Tests spawn child processes and SQLite files; two cores, so keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    // One PostgreSQL for the run: TWELVE_TEST_DATABASE_URL, or a throwaway embedded server.
    globalSetup: ['test/setup/postgres.ts'],
  },
});
