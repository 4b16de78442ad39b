import { Registry } from 'prom-client';
import { expect, test } from 'vitest';
import { createReceiverMetrics } from './metrics.js';

const COUNTER = 'imsync_callbacks_received_total';
const APP = '1600012345';
const COMMAND = 'Group.CallbackAfterSendMsg';

test('callbacks are counted per label set, and the counts add up across scrapes', async () => {
  const registry = new Registry();
  const metrics = createReceiverMetrics(registry);
  metrics.callbackAnswered('accepted', '', APP, COMMAND, 0.001);
  metrics.callbackAnswered('accepted', '', APP, COMMAND, 0.002);
  metrics.callbackAnswered('rejected', 'schema', APP, COMMAND, 0.001);
  metrics.callbackAnswered('rejected', 'wrong_app', '', '', 0.001);
  const first = await registry.getSingleMetricAsString(COUNTER);
  expect(first).toContain(`${COUNTER}{outcome="accepted",reason="",app="${APP}",command="${COMMAND}"} 2`);
  expect(first).toContain(`${COUNTER}{outcome="rejected",reason="schema",app="${APP}",command="${COMMAND}"} 1`);
  expect(first).toContain(`${COUNTER}{outcome="rejected",reason="wrong_app",app="",command=""} 1`);

  // A scrape with nothing new changes nothing; a later callback adds to what was scraped.
  expect(await registry.getSingleMetricAsString(COUNTER)).toBe(first);
  metrics.callbackAnswered('accepted', '', APP, COMMAND, 0.001);
  metrics.callbackAnswered('other_command', '', APP, 'other', 0.001);
  const second = await registry.getSingleMetricAsString(COUNTER);
  expect(second).toContain(`${COUNTER}{outcome="accepted",reason="",app="${APP}",command="${COMMAND}"} 3`);
  expect(second).toContain(`${COUNTER}{outcome="other_command",reason="",app="${APP}",command="other"} 1`);
  expect(second).toContain(`${COUNTER}{outcome="rejected",reason="schema",app="${APP}",command="${COMMAND}"} 1`);

  const histogram = await registry.getSingleMetricAsString('imsync_callback_ack_duration_seconds');
  expect(histogram).toContain('imsync_callback_ack_duration_seconds_count{outcome="accepted"} 3');
  expect(histogram).toContain('imsync_callback_ack_duration_seconds_count{outcome="rejected"} 2');
});
