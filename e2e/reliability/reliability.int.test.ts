import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runsAlone } from '@imsync/testing/vitest';
import { describe, expect, test } from 'vitest';
import { runScenario, type ScenarioResult } from './harness.js';
import { SCENARIOS } from './scenarios.js';

// Every callback answered 200 ends up in the archive exactly once, whatever breaks in between.
// RELIABILITY.md holds the figures of a full run (`pnpm reliability`); this suite runs the same
// scenarios and holds each to the promise.

// Streams of 400 callbacks/s through a whole pipeline: one such file at a time.
runsAlone();

const results: ScenarioResult[] = [];

describe.sequential('fault scenarios', () => {
  test.each(SCENARIOS.map((scenario) => [scenario.id, scenario] as const))(
    '%s: nothing acknowledged is lost or stored twice',
    async (_id, scenario) => {
      const result = await runScenario(scenario);
      results.push(result);
      // Every send got an answer or a connection error, and the outages still left most traffic accepted.
      expect(result.acknowledged + result.rejected + result.failed).toBe(result.sends);
      expect(result.acknowledged).toBeGreaterThan(result.sends / 3);
      expect(result.rejected).toBe(0);
      expect(result.lost).toBe(0);
      expect(result.duplicatesStored).toBe(0);
      expect(result.phantoms).toBe(0);
      expect(result.failedJobs).toBe(0);
      // A destination gets every acknowledged event, whatever it answered meanwhile.
      expect(result.undelivered ?? 0).toBe(0);
      // With backfill, every group message lost at the receiver that Tencent kept comes back, once,
      // from Tencent's history (the duplicate and phantom counts above cover these rows too).
      expect(result.backfill?.unrecovered ?? 0).toBe(0);
      // Tencent gives up after 2 s: a refusal that slow would be a timeout, not an answer.
      expect(result.slowestRefusalMs).toBeLessThan(2000);
      // The recovery timeline of RELIABILITY.md: sampled through the run, its last point has every
      // answer counted and the archive readable.
      const last = result.timeline.at(-1);
      expect(result.timeline.length).toBeGreaterThan(4);
      expect(last?.acknowledged).toBe(result.acknowledged);
      expect(last?.stored).toBeGreaterThan(0);
      await mkdir(fileURLToPath(new URL('../../artifacts/', import.meta.url)), { recursive: true });
      await writeFile(
        fileURLToPath(new URL('../../artifacts/reliability.json', import.meta.url)),
        JSON.stringify(results, null, 2),
      );
    },
    180_000,
  );
});
