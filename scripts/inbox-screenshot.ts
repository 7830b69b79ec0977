/**
 * docs/inbox.png: what an on-call member sees, in the Slack sandbox's inbox, after Alertmanager
 * notifications reached the relay: a condition that fired, fired again (a thread reply and a count)
 * and resolved (the message edited), and one still firing. Run: `npx tsx scripts/inbox-screenshot.ts`
 * (needs redis-server and Chromium, as `npm test` does).
 */
import { launchChromium } from '../test/helpers/chromium.js';
import { apiClient } from '../test/helpers/api-client.js';
import { removeRedisDir, startRedisServer } from '../test/helpers/redis-server.js';
import { startTestRelay } from '../test/helpers/test-relay.js';

const redis = await startRedisServer();
const relay = await startTestRelay({ redisUrl: redis.url, env: { DEDUP_WINDOW_SECONDS: '1', LOG_LEVEL: 'warn' } });
try {
  const sub = await relay.createSubscription({ name: 'Production alerts', recipient: 'U0ALICE' });
  const intake = apiClient(() => relay.web.url, relay.intakeKey);
  const send = async (alerts: unknown[]) => {
    const res = await intake('POST', `/api/v1/integrations/alertmanager?subscription=${sub.id}`, { version: '4', status: 'firing', alerts });
    if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
    await Promise.all(res.body.alerts.map((a: { id: string }) => relay.waitForAlert(a.id, ['delivered', 'failed', 'suppressed'])));
  };
  const startsAt = new Date(Date.now() - 15 * 60_000).toISOString();
  const disk = {
    status: 'firing',
    labels: { alertname: 'NodeFilesystemSpaceFillingUp', severity: 'critical', instance: 'node-07:9100', mountpoint: '/', cluster: 'prod-eu-west-1' },
    annotations: { summary: 'Filesystem is predicted to run out of space within the next 4 hours.' },
    startsAt,
    generatorURL: 'https://prometheus.example.com/graph?g0.expr=node_filesystem_avail_bytes',
    fingerprint: 'b0b98bc5dd3861d1',
  };
  const errors = {
    status: 'firing',
    labels: { alertname: 'HighErrorRate', severity: 'warning', service: 'checkout', cluster: 'prod-eu-west-1' },
    annotations: { summary: '5xx rate above 2 % for 10 minutes on checkout.' },
    startsAt,
    generatorURL: 'https://prometheus.example.com/graph?g0.expr=http_requests_total',
    fingerprint: '4d1e0c2b9a7f6e55',
  };
  await send([disk, errors]);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await send([disk]); // the repeat after repeat_interval
  await send([{ ...disk, status: 'resolved', endsAt: new Date().toISOString() }]);

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(relay.sandbox.url);
  await page.screenshot({ path: 'docs/inbox.png', fullPage: true });
  await browser.close();
  console.log('wrote docs/inbox.png');
} finally {
  await relay.close();
  await removeRedisDir(redis);
}
