import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertRow, MessageEntry, SlackMessageRow } from '../db/rows.js';
import { messageIdFor } from '../lib/ids.js';
import type { StepTimer } from '../lib/step-timer.js';
import type { DeliveryJob } from '../queues/delivery-job.js';
import { formatAlertMessage } from '../slack/alert-message.js';
import { classifySlackError, DeliveryFailure, permanentFailure, remoteId, remoteTs } from '../slack/errors.js';
import type { SlackSession } from '../slack/gateway.js';
import { alertMetadata, carriedAlertIds, fitsInOneMessage, MAX_BLOCKS, renderEntries, repeatReply, resolvedReply } from '../slack/message-format.js';
import type { PickedToken } from '../slack/token-precedence.js';
import type { DeliveryDeps } from './deliver.js';

export type Posted =
  | { outcome: 'posted'; channel: string; ts: string; coalesced?: boolean }
  /** `untouched`: the record is left as it is (a storm's leader may have taken it into its message) */
  | { outcome: 'wait'; afterMs: number; untouched?: boolean }
  | { outcome: 'suppressed'; code: string; message: string };

/**
 * The DM itself (docs/contract.md §3, §6.4): find the member, open the DM, wait for a channel Slack
 * limited, then post. An alert with a dedupKey is one message per condition: the first firing posts
 * it, a repeat replies in its thread and counts the repeat on it, a resolve edits it and says so in
 * the thread. A rotated OAuth token that Slack calls expired is refreshed once, and tried again.
 */
export async function postAlert(deps: DeliveryDeps, job: DeliveryJob, read: AlertRow, picked: PickedToken, timer: StepTimer): Promise<Posted> {
  // this attempt's own copy: the status moves with it (a post refused as expired leaves it `delivering`)
  const record = { ...read };
  try {
    return await post(deps, job, record, picked, timer);
  } catch (error) {
    if (picked.source !== 'oauth' || classifySlackError(error).code !== 'token_expired') throw error;
    const token = await deps.tokens.refresh(job.subscriptionId, picked.token);
    try {
      return await post(deps, job, record, { ...picked, token }, timer);
    } catch (again) {
      // the fresh token expired on its way (a short-lived token, a slow moment): the next attempt refreshes again
      if (classifySlackError(again).code !== 'token_expired') throw again;
      throw new DeliveryFailure({ kind: 'transient', code: 'token_expired', message: 'The refreshed OAuth token expired before Slack saw it; trying again.' });
    }
  }
}

async function post(deps: DeliveryDeps, job: DeliveryJob, record: AlertRow, picked: PickedToken, timer: StepTimer): Promise<Posted> {
  const slack = deps.slack.session({ subscriptionId: job.subscriptionId, ...picked });
  const userId = await deps.directory.userId(slack, job.recipient);
  const channel = await deps.directory.dmChannel(slack, userId);
  timer.mark('member');
  const step = new Steps(deps, job, record, picked, slack, timer);
  if (!job.dedupKey) return step.postNew(channel);

  const open = await deps.messages.openMessage(job.subscriptionId, job.recipient, job.dedupKey);
  if (job.event === 'resolved') {
    // (a resolve that already replied and closed its key, then lost its outcome to a crash, is done)
    if (!open && record.replyTs) return { outcome: 'posted', channel, ts: record.replyTs };
    if (!open) return { outcome: 'suppressed', code: 'nothing_to_resolve', message: 'No message of this dedupKey is open: nothing was posted.' };
    return step.resolve(open);
  }
  if (!open) return step.postNew(channel);
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
    private readonly timer: StepTimer,
  ) {}

  /**
   * A new DM (docs/contract.md §6.4, §6.5). When the member's channel must wait, it waits with the
   * storm of other new messages for it; the one whose turn it is takes up to a message's worth of
   * them along: one message, a line each, and every record delivered with its `ts`.
   */
  async postNew(channel: string): Promise<Posted> {
    const earlier = await this.earlierPost(channel);
    if (earlier) return this.foundAgain(channel, earlier);
    let turn = await this.slack.joinStorm(channel, this.record, STORM_CAPACITY);
    // The leader waits out the last moment before its slot here: BullMQ's delayed set wakes a job
    // tens of ms late, and each round's slot is a second after the previous round's post.
    while (turn.leader && turn.waitMs > 0 && turn.waitMs <= LEADER_WAITS_HERE_MS) {
      await sleep(turn.waitMs);
      turn = await this.slack.joinStorm(channel, this.record, STORM_CAPACITY);
    }
    this.timer.mark('storm');
    if (turn.waitMs > 0) {
      const afterMs = turn.leader ? turn.waitMs - LEADER_WAITS_HERE_MS / 2 : turn.waitMs;
      return { outcome: 'wait', afterMs, untouched: true };
    }
    if (!(await this.markDelivering())) {
      // another alert's post took this one along: its record says so once that post is recorded
      await this.slack.takeStorm(channel, this.record.id, 0);
      return { outcome: 'wait', afterMs: this.deps.postTimeoutMs, untouched: true };
    }
    const own = entryOf(this.record);
    const others = turn.paced ? await this.takeOthers(channel, own) : [];
    this.timer.mark('delivering');
    const entries = [own, ...others.map(entryOf)];
    const content = entries.length > 1 || this.job.dedupKey ? renderEntries(entries) : formatAlertMessage(this.job.message);
    let posted: Posted & { outcome: 'posted' };
    try {
      const result = await this.slack.call(
        'chat.postMessage',
        {
          channel,
          text: content.text,
          blocks: content.blocks as never,
          unfurl_links: false,
          metadata: alertMetadata(this.record.id, this.job.dedupKey ?? null, others.map((other) => other.id)),
        },
        { storm: true },
      );
      const ts = remoteTs(result.ts);
      if (!result.ok || !ts) throw new DeliveryFailure(permanentFailure(result.ok ? 'invalid_response' : (result.error ?? 'invalid_response')));
      posted = { outcome: 'posted', channel: remoteId(result.channel) ?? channel, ts, coalesced: entries.length > 1 };
      this.timer.mark('post');
    } catch (error) {
      // nothing went out: the others wait with the storm again (and this one, as its failure says)
      await Promise.all(others.map((other) => this.deps.lifecycle.waiting(other.id)));
      await this.slack.rejoinStorm(channel, others);
      throw error;
    }
    // Posted: nothing after this may throw into a retry (that would post twice).
    if (turn.paced) await this.slack.posted(channel);
    await this.opened(posted, this.record.id, entries);
    for (const other of others) {
      await this.deps.lifecycle.delivered(other.id, { channel: posted.channel, ts: posted.ts, tokenSource: this.picked.source, attempts: other.attempts + 1, coalesced: true });
    }
    return posted;
  }

  /**
   * This alert's message, posted by an attempt cut off before it recorded it (this alert's, or a
   * storm leader's that carried it). The message's row is written unless one of the alerts it
   * carries is recorded delivered (its poster wrote the row before recording any of them).
   */
  private async foundAgain(channel: string, found: { ts: string; alertIds: string[] }): Promise<Posted> {
    const rows = await Promise.all(found.alertIds.map((id) => (id === this.record.id ? this.record : this.deps.alerts.get(id))));
    const carried = rows.filter(
      (row): row is AlertRow => row !== undefined && row.subscriptionId === this.job.subscriptionId && row.recipient === this.job.recipient,
    );
    const posted = { outcome: 'posted' as const, channel, ts: found.ts, coalesced: carried.length > 1 };
    if (carried.some((row) => row.status === 'delivered')) return posted;
    return this.opened(posted, carried[0]?.id ?? this.record.id, carried.map(entryOf));
  }

  /** The record `delivering`, from the status this attempt last saw; false when it moved meanwhile. */
  private async markDelivering(): Promise<boolean> {
    if (!(await this.deps.lifecycle.delivering(this.record.id, this.picked.source, this.record.status))) return false;
    this.record.status = 'delivering';
    return true;
  }

  /** A message just posted (or found posted): its conditions are open, so repeats and resolves find it. */
  private async opened(posted: Posted & { outcome: 'posted' }, posterId: string, entries: MessageEntry[]): Promise<Posted> {
    const keys = entries.flatMap((entry) => (entry.dedupKey ? [entry.dedupKey] : []));
    if (keys.length > 0) {
      const now = Date.now();
      const message: SlackMessageRow = {
        id: messageIdFor(posterId),
        subscriptionId: this.job.subscriptionId,
        channel: posted.channel,
        ts: posted.ts,
        tokenSource: this.picked.source,
        entries,
        createdAt: now,
        updatedAt: now,
      };
      await this.deps.messages.create(message, this.job.recipient, keys);
    }
    return posted;
  }

  /**
   * The leader's turn in a storm: the others waiting for this channel, as many as fit in one
   * message with this one, each taken into it (its record `delivering`) unless it has moved on:
   * delivered meanwhile, being posted by its own job, or a condition that is already open (a
   * repeat, which replies in its own thread). The ones that do not fit wait for the next turn.
   */
  private async takeOthers(channel: string, own: MessageEntry): Promise<AlertRow[]> {
    const candidates: AlertRow[] = [];
    const seen = new Set<string>();
    // An alert can be back in the storm after it moved on (its job asked again while an earlier
    // leader was taking it): it leaves the storm here, and the leader takes more in its place.
    for (let pass = 0; pass < TAKE_PASSES && candidates.length < STORM_CAPACITY - 1; pass++) {
      const wanted = STORM_CAPACITY - 1 - candidates.length;
      const ids = await this.slack.takeStorm(channel, this.record.id, wanted);
      const rows = await Promise.all(ids.map((id) => this.deps.alerts.get(id)));
      for (const row of rows) {
        if (!row || seen.has(row.id)) continue;
        seen.add(row.id);
        if (row.subscriptionId !== this.job.subscriptionId || row.recipient !== this.job.recipient || row.event !== 'firing') continue;
        if (row.status !== 'queued' && row.status !== 'retrying') continue;
        if (row.dedupKey && (await this.deps.messages.openMessage(row.subscriptionId, row.recipient, row.dedupKey))) continue;
        candidates.push(row);
      }
      if (ids.length < wanted) break;
    }
    if (candidates.length === 0) return [];
    const fit = fitsInOneMessage([own, ...candidates.map(entryOf)]) - 1;
    await this.slack.rejoinStorm(channel, candidates.slice(fit));
    const taken: AlertRow[] = [];
    for (const row of candidates.slice(0, fit)) {
      if (await this.deps.lifecycle.delivering(row.id, this.picked.source, row.status)) taken.push(row);
    }
    return taken;
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
    if (earlier) return { outcome: 'posted', channel, ts: earlier.ts };
    const pacing = await this.slack.pace(channel);
    if (pacing.waitMs > 0) return { outcome: 'wait', afterMs: pacing.waitMs };
    if (!(await this.markDelivering())) return { outcome: 'wait', afterMs: this.deps.postTimeoutMs, untouched: true };
    const result = await this.slack.call('chat.postMessage', {
      channel,
      text: content.text,
      blocks: content.blocks as never,
      unfurl_links: false,
      metadata: alertMetadata(this.record.id, this.job.dedupKey ?? null, []),
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    this.timer.mark('post');
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
  private async earlierPost(channel: string, threadTs?: string): Promise<{ ts: string; alertIds: string[] } | null> {
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
        for (const message of answer.messages ?? []) {
          const alertIds = postedFor(message, id);
          const ts = alertIds && remoteTs((message as { ts?: unknown }).ts);
          if (alertIds && ts) return { ts, alertIds };
        }
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
    this.timer.mark('edit');
    if (pacing.paced) await this.slack.posted(open.channel);
    if (!result.ok) throw new DeliveryFailure(permanentFailure(result.error ?? 'invalid_response'));
    return undefined;
  }
}

/** A storm's message holds at most this many alerts (Slack's 50 blocks, less the header and the context line). */
const STORM_CAPACITY = MAX_BLOCKS - 2;
/** A storm's leader within this of its slot waits for it in the worker; one further off is woken half of it early. */
const LEADER_WAITS_HERE_MS = 200;
/** How many times a storm's leader takes from the storm to fill its message. */
const TAKE_PASSES = 3;

/** How far back, and how many messages, the read-back looks for an interrupted attempt's post. */
const READ_BACK_MARGIN_MS = 2000;
const READ_BACK_PAGE = 200;
const READ_BACK_PAGES = 5;

/**
 * The alerts a message Slack returned carries, the one that posted it first, when this alert is
 * one of them (`relay_alert` metadata: its id, and a storm's others); else null. Hostile until checked.
 */
function postedFor(message: unknown, alertId: string): string[] | null {
  const ids = carriedAlertIds((message as { metadata?: unknown } | null)?.metadata)
    .filter((id) => ALERT_ID.test(id))
    .slice(0, STORM_CAPACITY);
  return ids.includes(alertId) ? ids : null;
}

const ALERT_ID = /^alr_[0-9A-HJKMNP-TV-Z]{26}$/;

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
