import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { parse } from 'yaml';
import { installed, read, root } from './compose-files.js';

// The alert rules shipped in deploy/prometheus/, checked and unit-tested by Prometheus's own
// promtool (Debian's `prometheus` package; CI installs it): a rule that does not parse, or that
// fires on the wrong series or not at all, fails here.

const run = promisify(execFile);
const RULES = 'deploy/prometheus/imsync-rules.yml';
const TESTS = 'deploy/prometheus/imsync-rules.test.yml';

async function promtool(...args: string[]) {
  return run('promtool', args, { cwd: root }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`promtool ${args.join(' ')} failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
}

test('promtool accepts the rules', async ({ skip }) => {
  skip(!installed('promtool') && !process.env.CI, 'promtool not installed (apt-get install prometheus)');
  const { stdout } = await promtool('check', 'rules', RULES);
  expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
});

test('every alert rule has unit tests, and they pass (promtool test rules)', async ({ skip }) => {
  skip(!installed('promtool') && !process.env.CI, 'promtool not installed (apt-get install prometheus)');
  const alerts = (parse(read(RULES)) as { groups: { rules: { alert?: string }[] }[] }).groups
    .flatMap((group) => group.rules)
    .flatMap((rule) => (rule.alert ? [rule.alert] : []));
  const tested = new Set(
    (parse(read(TESTS)) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests
      .flatMap((each) => each.alert_rule_test)
      // Tested means: a case where it fires (one where it stays quiet is the other half).
      .filter((each) => each.exp_alerts.length > 0)
      .map((each) => each.alertname),
  );
  expect(alerts.filter((alert) => !tested.has(alert))).toEqual([]);
  const { stdout } = await promtool('test', 'rules', TESTS);
  expect(stdout).toContain('SUCCESS');
});
