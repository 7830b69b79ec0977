import type { AlertRow, MessageEntry, SlackMessageRow } from '../db/rows.js';
import { newMessageId } from '../lib/ids.js';
import type { DeliveryJob } from '../queues/delivery-job.js';
import { formatAlertMessage } from '../slack/alert-message.js';
import { classifySlackError, DeliveryFailure, permanentFailure, remoteId, remoteTs } from '../slack/errors.js';
import type { SlackSession } from '../slack/gateway.js';
import { alertMetadata, renderEntries, repeatReply, resolvedReply } from '../slack/message-format.js';
import type { PickedToken } from '../slack/token-precedence.js';
import type { DeliveryDeps } from './deliver.js';

export type Posted =
  | { outcome: 'posted'; channel: string; ts: string }
  | { outcome: 'wait'; afterMs: number }
  | { outcome: 'suppressed'; code: string; message: string };

/**
 * The DM itself (docs/contract.md §3, §6.4): find the member, open the DM, wait for a channel Slack
 * limited, then post. An alert with a dedupKey is one message per condition: the first firing posts
 * it, a repeat replies in its thread and counts the repeat on it, a resolve edits it and says so in
 * the thread. A rotated OAuth token that Slack calls expired is refreshed once, and tried again.
 */
export async function postAlert(deps: DeliveryDeps, job: DeliveryJob, record: AlertRow, picked: PickedToken): Promise<Posted> {
  try {
    return await post(deps, job, record, picked);
  } catch (error) {
    if (picked.source !== 'oauth' || classifySlackError(error).code !== 'token_expired') throw error;
    const token = await deps.tokens.refresh(job.subscriptionId, picked.token);
    try {
      return await post(deps, job, record, { ...picked, token });
    } catch (again) {
      // the fresh token expired on its way (a short-lived token, a slow moment): the next attempt refreshes again
      if (classifySlackError(again).code !== 'token_expired') throw again;
      throw new DeliveryFailure({ kind: 'transient', code: 'token_expired', message: 'The refreshed OAuth token expired before Slack saw it; trying again.' });
    }
  }
}

async function post(deps: DeliveryDeps, job: DeliveryJob, record: AlertRow, picked: PickedToken): Promise<Posted> {
  const slack = deps.slack.session({ subscriptionId: job.subscriptionId, ...picked });
  const userId = await deps.directory.userId(slack, job.recipient);
  const channel = await deps.directory.dmChannel(slack, userId);
  const step = new Steps(deps, job, record, picked, slack);
  if (!job.dedupKey) return step.postNew(channel, [], formatAlertMessage(job.message));

  const open = await deps.messages.openMessage(job.subscriptionId, job.recipient, job.dedupKey);
  if (job.event === 'resolved') {
    // (a resolve that already replied and closed its key, then lost its outcome to a crash, is done)
    if (!open && record.replyTs) return { outcome: 'posted', channel, ts: record.replyTs };
    if (!open) return { outcome: 'suppressed', code: 'nothing_to_resolve', message: 'No message of this dedupKey is open: nothing was posted.' };
    return step.resolve(open);
  }
  if (!open) {
    const entry = entryOf(record);
    return step.postNew(channel, [entry], renderEntries([entry]));
  }
  // its own message, posted and opened by an attempt that was cut off before it recorded the outcome
  if (open.entries.some((entry) => entry.alertId === record.id)) return { outcome: 'posted', channel: open.channel, ts: open.ts };
  return step.repeat(open);
}

/** The Slack calls of one delivery, each after the channel's pace allows it. */
class Steps {
  constructor(
    private readonly deps: DeliveryDeps,
    private readonly job: DeliveryJob,
    private readonly record: AlertRow,
    private readonly picked: PickedToken,
    private readonly slack: SlackSession,
  ) {}

  /** A new DM; with `entries`, a message that can change later, and the keys it opens. */
  async postNew(channel: string, entries: MessageEntry[], content: ReturnType<typeof formatAlertMessage>): Promise<Posted> {
    const posted = await this.postOnce(channel, content);
    if (posted.outcome !== 'posted') return posted;
    if (entries.length > 0) {
      const now = Date.now();
      const message: SlackMessageRow = {
        id: newMessageId(),
        subscriptionId: this.job.subscriptionId,
        channel: posted.channel,
        ts: posted.ts,
        tokenSource: this.picked.source,
        entries,
        createdAt: now,
        updatedAt: now,
      };
      await this.deps.messages.create(message, this.job.recipient, entries.flatMap((entry) => (entry.dedupKey ? [entry.dedupKey] : [])));
    }
    return posted;
  }

  /** Fired again: a reply in the thread (once), then the message counts the repeat. */
  async repeat(open: SlackMessageRow): Promise<Posted> {
    const entries = open.entries.map((entry) =>
      entry.dedupKey === this.job.dedupKey && entry.lastAlertId !== this.record.id
        ? { ...entry, fired: entry.fired + 1, lastFiredAt: this.record.createdAt, lastAlertId: this.record.id }
        : entry,
    );
    const entry = entries.find((e) => e.dedupKey === this.job.dedupKey)!;
    if (!this.record.replyTs) {
      const reply = await this.postOnce(open.channel, repeatReply(entry, this.job.message), open.ts);
      if (reply.outcome !== 'posted') return reply;
      await this.deps.lifecycle.replied(this.record.id, reply.ts);
    }
    await this.deps.messages.updateEntries(open.id, entries, Date.now());
    const edited = await this.edit(open, entries);
    return edited ?? { outcome: 'posted', channel: open.channel, ts: open.ts };
  }

  /**
   * Resolved: a reply goes to its thread (once), the message is edited to say so and when, the key
   * closes. The reply, recorded, comes before the edit, which may be drawn again: an edit that went
   * out and a reply that must wait for the channel would otherwise spend the channel's pace on the
   * same edit again and again.
   */
  async resolve(open: SlackMessageRow): Promise<Posted> {
    const entries = open.entries.map((entry) =>
      entry.dedupKey === this.job.dedupKey && !entry.resolvedAt ? { ...entry, resolvedAt: this.record.createdAt } : entry,
    );
    await this.deps.messages.updateEntries(open.id, entries, Date.now());
    if (!this.record.replyTs) {
      const entry = entries.find((e) => e.dedupKey === this.job.dedupKey)!;
      const reply = await this.postOnce(open.channel, resolvedReply(entry), open.ts);
      if (reply.outcome !== 'posted') return reply;
      await this.deps.lifecycle.replied(this.record.id, reply.ts);
    }
    const edited = await this.edit(open, entries);
    if (edited) return edited;
    await this.deps.messages.closeKey(this.job.subscriptionId, this.job.recipient, this.job.dedupKey!);
    return { outcome: 'posted', channel: open.channel, ts: open.ts };
  }

  /**
   * One post, the call that must not be repeated while it may be in flight: the record says
   * `delivering` from just before it. Answers a wait instead when the channel must rest first.
   */
  private async postOnce(channel: string, content: { text: string; blocks: unknown[] }, threadTs?: string): Promise<Posted> {
    const earlier = await this.earlierPost(channel, threadTs);
    if (earlier) return { outcome: 'posted', channel, ts: earlier };
    const pacing = await this.slack.pace(channel);
    if (pacing.waitMs > 0) return { outcome: 'wait', afterMs: pacing.waitMs };
    await this.deps.lifecycle.delivering(this.record.id, this.picked.source);
    const result = await this.slack.call('chat.postMessage', {
      channel,
      text: content.text,
      blocks: content.blocks as never,
      unfurl_links: false,
      metadata: alertMetadata(this.record.id, this.job.dedupKey ?? null),
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    // Posted: nothing after this may throw into a retry (that would post twice).
    if (pacing.paced) await this.slack.posted(channel);
    const ts = remoteTs(result.ts);
    if (!result.ok || !ts) throw new DeliveryFailure(permanentFailure(result.ok ? 'invalid_response' : (result.error ?? 'invalid_response')));
    return { outcome: 'posted', channel: remoteId(result.channel) ?? channel, ts };
  }

  /**
   * The post of an earlier attempt that was cut off before it could record it (its worker killed
   * mid-post, the database down just after the post), found in the DM by the metadata every post
   * carries; null when this record never got as far as posting. Without `im:history` the DM cannot
   * be read: the attempt posts again (at least once), and says so in the log.
   */
  private async earlierPost(channel: string, threadTs: string | undefined): Promise<string | null> {
    const { status, updatedAt, createdAt, id } = this.record;
    if (status !== 'delivering' && status !== 'retrying') return null;
    // a `delivering` record was last changed just before its post; a `retrying` one after it failed
    const oldest = ((status === 'delivering' ? updatedAt : createdAt) - READ_BACK_MARGIN_MS) / 1000;
    const args = { channel, oldest: oldest.toFixed(6), include_all_metadata: true, limit: READ_BACK_PAGE };
    let cursor: string | undefined;
    try {
      for (let page = 0; page < READ_BACK_PAGES; page += 1) {
        const answer = threadTs
          ? await this.slack.call('conversations.replies', { ...args, ts: threadTs, cursor })
          : await this.slack.call('conversations.history', { ...args, cursor });
        const found = answer.messages?.find((message) => postedFor(message, id));
        if (found) return remoteTs(found.ts) ?? null;
        cursor = answer.response_metadata?.next_cursor || undefined;
        if (!cursor) return null;
      }
      return null;
    } catch (error) {
      const failure = classifySlackError(error);
      if (failure.kind !== 'permanent') throw error;
      this.deps.logger.warn(
        { alertId: id, subscriptionId: this.job.subscriptionId, code: failure.code },
        'cannot read the DM back to see whether an interrupted attempt posted (needs im:history); posting again',
      );
      return null;
    }
  }

  /** The message drawn again as it now reads; a wait when the channel must rest first, else nothing. */
  private async edit(open: SlackMessageRow, entries: MessageEntry[]): Promise<Posted | undefined> {
    const pacing = await this.slack.pace(open.channel);
    if (pacing.waitMs > 0) return { outcome: 'wait', afterMs: pacing.waitMs };
    const { text, blocks } = renderEntries(entries);
    const result = await this.slack.call('chat.update', { channel: open.channel, ts: open.ts, text, blocks });
    if (pacing.paced) await this.slack.posted(open.channel);
    if (!result.ok) throw new DeliveryFailure(permanentFailure(result.error ?? 'invalid_response'));
    return undefined;
  }
}

/** How far back, and how many messages, the read-back looks for an interrupted attempt's post. */
const READ_BACK_MARGIN_MS = 2000;
const READ_BACK_PAGE = 200;
const READ_BACK_PAGES = 5;

/** A message Slack returned carries this alert's metadata (`relay_alert`, its id). Hostile until checked. */
function postedFor(message: unknown, alertId: string): boolean {
  const metadata = (message as { metadata?: { event_type?: unknown; event_payload?: { alert_id?: unknown } } } | null)?.metadata;
  return metadata?.event_type === 'relay_alert' && metadata.event_payload?.alert_id === alertId;
}

/** The alert as its message shows it. */
function entryOf(record: AlertRow): MessageEntry {
  const { title, text, severity, fields, link } = record.message;
  return {
    alertId: record.id,
    dedupKey: record.dedupKey,
    title: title ?? null,
    text,
    severity,
    fields: fields ?? null,
    link: link ?? null,
    fired: 1,
    lastFiredAt: record.createdAt,
    lastAlertId: record.id,
    resolvedAt: null,
  };
}
