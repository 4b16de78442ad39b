import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processLogs, repoRoot } from '@imsync/local-services';
import { beforeEach } from 'vitest';

// A setup file of the integration project: when a test fails, the logs of the processes it ran
// against (receivers, workers, dashboards, Redis, PostgreSQL) are printed under the failure, the
// last lines of each, and written whole to artifacts/test-logs/ for CI to keep.

const SHOWN_LINES = 40;

beforeEach(({ task, onTestFailed }) => {
  const since = Date.now();
  onTestFailed(() => {
    // What this test started, and what the file started before it that still runs.
    const relevant = processLogs().filter((log) => log.startedAt >= since || log.running());
    if (relevant.length === 0) {
      return;
    }
    const dir = join(repoRoot, 'artifacts', 'test-logs', slug(`${task.file?.name ?? 'file'}-${task.name}`));
    mkdirSync(dir, { recursive: true });
    // The failure itself too: a test that passes on its retry has its first failure printed
    // nowhere else, and a flaky test is found by that failure.
    // With the assertion's diff: "expected { Object (…) } to match object" alone names nothing.
    const errors = (task.result?.errors ?? []).map(
      (error) => `${error.name ?? 'Error'}: ${error.message ?? ''}${error.diff ? `\n${error.diff}` : ''}`,
    );
    writeFileSync(join(dir, 'failure.txt'), `${errors.join('\n')}\n`);
    const report = relevant.map((log) => {
      const lines = log.lines();
      writeFileSync(join(dir, `${log.name}-${log.pid ?? 'x'}.log`), `${lines.join('\n')}\n`);
      const shown = lines.slice(-SHOWN_LINES).map((line) => `    ${line.slice(0, 400)}`);
      return [
        `  ${log.name} (pid ${log.pid ?? '?'}, ${log.running() ? 'running' : 'stopped'}), last ${shown.length} lines:`,
        ...shown,
      ].join('\n');
    });
    const failure = errors.map((error) => `  failed with ${error.slice(0, 4000)}`).join('\n');
    process.stderr.write(
      `\n── logs of the processes behind "${task.name}" (whole: ${dir}) ──\n${failure}\n${report.join('\n')}\n`,
    );
  });
});

function slug(text: string): string {
  return text.replace(/[^\w.-]+/g, '_').slice(0, 120);
}
