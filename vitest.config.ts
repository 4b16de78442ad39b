import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['{apps,packages}/*/{src,test}/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // A failing test prints the logs of the processes it ran against.
          setupFiles: ['packages/testing/src/failure-logs.ts'],
          // After the unit tests, and with its own worker limit.
          sequence: { groupOrder: 1 },
          include: ['{apps,packages}/*/{src,test}/**/*.int.test.ts', 'e2e/**/*.int.test.ts', 'bench/**/*.int.test.ts'],
          // Each file starts its own Redis/PostgreSQL processes; two cores fit two files at once.
          pool: 'forks',
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          retry: process.env.CI ? 1 : 0,
        },
      },
    ],
  },
});
