import { describe, expect, it } from 'vitest';
import type { MessageEntry, SlackMessageRow } from '../../src/db/rows.js';
import { DIALECTS, freshStores, T0 } from './contract-stores.js';

/** MessageStore (docs/contract.md §6.4): the messages of open conditions, on each dialect. */
const SUB = 'sub_01JPBZAAAAAAAAAAAAAAAAAAAA';

const entry = (dedupKey: string, overrides: Partial<MessageEntry> = {}): MessageEntry => ({
  alertId: `alr_01JPBZ${dedupKey.toUpperCase().padEnd(20, '0').slice(0, 20)}`,
  dedupKey,
  title: 'Disk full',
  text: 'db-1 at 95 % — “quoted” ✅',
  severity: 'critical',
  fields: { host: 'db-1' },
  link: 'https://prometheus.example.com/graph',
  fired: 1,
  lastFiredAt: T0,
  lastAlertId: 'alr_01JPBZ00000000000000000001',
  resolvedAt: null,
  ...overrides,
});

const message = (id: string, ts: string, entries: MessageEntry[]): SlackMessageRow => ({
  id,
  subscriptionId: SUB,
  channel: 'D07ALICE01',
  ts,
  tokenSource: 'bot_token',
  entries,
  createdAt: T0,
  updatedAt: T0,
});

describe.each(DIALECTS)('%s', (dialect) => {
  const t = freshStores(dialect);

  it('create opens its keys for the member; openMessage and get answer the message as stored', async () => {
    const { messages } = t().stores;
    const row = message('msg_01JPBZ00000000000000000001', '1741944600.000200', [entry('disk'), entry('cpu')]);
    await messages.create(row, 'U0ALICE', ['disk', 'cpu']);
    expect(await messages.openMessage(SUB, 'U0ALICE', 'disk')).toStrictEqual(row);
    expect(await messages.openMessage(SUB, 'U0ALICE', 'cpu')).toStrictEqual(row);
    expect(await messages.get(row.id)).toStrictEqual(row);
    // per member and per subscription
    expect(await messages.openMessage(SUB, 'U0BOB', 'disk')).toBeUndefined();
    expect(await messages.openMessage('sub_01JPBZBBBBBBBBBBBBBBBBBBBB', 'U0ALICE', 'disk')).toBeUndefined();
    expect(await messages.get('msg_01JPBZ0000000000000000NONE')).toBeUndefined();
  });

  it('updateEntries changes what it shows; closeKey closes one key and leaves the other open', async () => {
    const { messages } = t().stores;
    const row = message('msg_01JPBZ00000000000000000002', '1741944601.000300', [entry('disk'), entry('cpu')]);
    await messages.create(row, 'U0ALICE', ['disk', 'cpu']);
    const entries = [entry('disk', { fired: 3, lastFiredAt: T0 + 60_000, resolvedAt: T0 + 120_000 }), entry('cpu')];
    await messages.updateEntries(row.id, entries, T0 + 120_000);
    expect(await messages.get(row.id)).toStrictEqual({ ...row, entries, updatedAt: T0 + 120_000 });
    await messages.closeKey(SUB, 'U0ALICE', 'disk');
    expect(await messages.openMessage(SUB, 'U0ALICE', 'disk')).toBeUndefined();
    expect((await messages.openMessage(SUB, 'U0ALICE', 'cpu'))?.id).toBe(row.id);
    // closing a key that is not open is no error
    await messages.closeKey(SUB, 'U0ALICE', 'disk');
  });

  it('a key that fires again after it closed opens the new message', async () => {
    const { messages } = t().stores;
    const first = message('msg_01JPBZ00000000000000000003', '1741944602.000400', [entry('disk')]);
    const second = message('msg_01JPBZ00000000000000000004', '1741944603.000500', [entry('disk')]);
    await messages.create(first, 'U0ALICE', ['disk']);
    await messages.closeKey(SUB, 'U0ALICE', 'disk');
    await messages.create(second, 'U0ALICE', ['disk']);
    expect((await messages.openMessage(SUB, 'U0ALICE', 'disk'))?.id).toBe(second.id);
    // and a message re-created over an open key (an attempt cut off before it recorded) points the key at the newest
    const third = message('msg_01JPBZ00000000000000000005', '1741944604.000600', [entry('disk')]);
    await messages.create(third, 'U0ALICE', ['disk']);
    expect((await messages.openMessage(SUB, 'U0ALICE', 'disk'))?.id).toBe(third.id);
  });
});
