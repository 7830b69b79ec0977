import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/** docs/contract.md §3: a failed job retried from Bull Board goes back to `queued`, then is delivered. */
let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ worker: false });
});
afterAll(() => relay.close());

const board = (path: string) =>
  fetch(`${relay.web.url}/admin/queues${path}`, {
    method: 'PUT',
    headers: { authorization: `Basic ${Buffer.from(`admin:${relay.config.adminPassword}`).toString('base64')}` },
  });

async function failedAlert(text: string): Promise<string> {
  const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
  relay.sandbox.inject({ kind: 'error', error: 'messages_tab_disabled', method: 'chat.postMessage', times: 1 });
  const id = (await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text })).body.id;
  expect((await relay.waitForAlert(id)).status).toBe('failed');
  return id;
}

describe('retrying from Bull Board', () => {
  it('puts the record back to queued (one job, and all failed jobs), and a worker then delivers it', async () => {
    const worker = await relay.startWorker();
    const one = await failedAlert('retry one');
    const many = [await failedAlert('retry all a'), await failedAlert('retry all b')];
    await worker.close();

    expect((await board(`/api/queues/alerts-ongoing/${one}/retry`)).status).toBe(204);
    await expect.poll(async () => (await relay.api('GET', `/api/v1/alerts/${one}`)).body.status).toBe('queued');

    expect((await board('/api/queues/alerts-ongoing/retry/failed')).status).toBe(200);
    for (const id of many) await expect.poll(async () => (await relay.api('GET', `/api/v1/alerts/${id}`)).body.status).toBe('queued');

    await relay.startWorker();
    for (const id of [one, ...many]) expect((await relay.waitForAlert(id, ['delivered'])).status).toBe('delivered');
  });
});
