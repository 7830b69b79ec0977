import { DeliveryFailure, permanentFailure, remoteId } from './errors.js';
import type { SlackSession } from './gateway.js';
import { TimeoutError, withTimeout } from '../lib/with-timeout.js';

/**
 * Finds the designated member and their DM channel (docs/contract.md §3): a user id is used as it is, an
 * e-mail goes to users.lookupByEmail, anything else is matched against users.list on name,
 * display name or real name, ignoring case. Answers are cached per workspace scope, because
 * users.list is a heavy, tightly rate-limited call and an alert storm repeats the same member.
 */

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

interface Entry {
  value: string;
  expires: number;
}

export class MemberDirectory {
  private readonly cache = new Map<string, Entry>();
  /** Lookups under way: concurrent jobs for one member share one Slack call. */
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly options: {
      ttlMs?: number;
      maxEntries?: number;
      now?: () => number;
      /** users.list paging stops after this many pages (docs/contract.md §6.2: 50) */
      maxPages?: number;
      /** …or after this long (30 s) */
      lookupTimeoutMs?: number;
    } = {},
  ) {}

  /** Answers are cached per session scope: one workspace and token source. */
  async userId(slack: SlackSession, recipient: string): Promise<string> {
    const trimmed = recipient.trim();
    if (USER_ID.test(trimmed)) return trimmed;
    return this.cached(`u\0${slack.scope}\0${trimmed.toLowerCase()}`, () =>
      EMAIL.test(trimmed) ? this.byEmail(slack, trimmed) : this.byName(slack, trimmed),
    );
  }

  async dmChannel(slack: SlackSession, userId: string): Promise<string> {
    return this.cached(`c\0${slack.scope}\0${userId}`, async () => {
      const result = await slack.call('conversations.open', { users: userId });
      const id = remoteId(result.channel?.id);
      if (!id) throw new DeliveryFailure(permanentFailure('channel_not_found'));
      return id;
    });
  }

  /** Drop what is known of a scope, e.g. after channel_not_found. */
  forget(scope: string): void {
    for (const key of this.cache.keys()) if (key.includes(`\0${scope}\0`)) this.cache.delete(key);
  }

  private async byEmail(slack: SlackSession, email: string): Promise<string> {
    const result = await slack.call('users.lookupByEmail', { email });
    const id = remoteId(result.user?.id);
    if (!id) throw new DeliveryFailure(permanentFailure('users_not_found'));
    return id;
  }

  /**
   * users.list, page by page, until a member matches. A server that never stops paging (a
   * repeated cursor, more than 50 pages, more than 30 s) fails the lookup `member_lookup_failed`,
   * so it cannot hold a worker slot for ever.
   */
  private async byName(slack: SlackSession, name: string): Promise<string> {
    const wanted = name.replace(/^@/, '').toLowerCase();
    const maxPages = this.options.maxPages ?? 50;
    const timeoutMs = this.options.lookupTimeoutMs ?? 30_000;
    const lookupFailed = (why: string) =>
      new DeliveryFailure(permanentFailure('member_lookup_failed', `No member named "${name}" was found: users.list ${why}.`));
    let stopped = false;
    const search = async (): Promise<string> => {
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let page = 1; ; page++) {
        if (stopped) throw lookupFailed('took too long');
        const result = await slack.call('users.list', { limit: 200, cursor });
        for (const member of result.members ?? []) {
          if (member.deleted || !member.id) continue;
          const names = [member.name, member.profile?.display_name, member.real_name, member.profile?.real_name];
          const id = remoteId(member.id);
          if (id && names.some((candidate) => candidate?.toLowerCase() === wanted)) return id;
        }
        cursor = result.response_metadata?.next_cursor || undefined;
        if (!cursor) break;
        if (seen.has(cursor)) throw lookupFailed('repeated a cursor');
        if (page >= maxPages) throw lookupFailed(`had more than ${maxPages} pages`);
        seen.add(cursor);
      }
      throw new DeliveryFailure(permanentFailure('user_not_found', `No member of this workspace is named "${name}".`));
    };
    try {
      return await withTimeout(search(), timeoutMs);
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      stopped = true;
      throw lookupFailed(`did not finish within ${Math.round(timeoutMs / 1000)} s`);
    }
  }

  private async cached(key: string, load: () => Promise<string>): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.value;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const lookup = load().then((value) => {
      if (this.cache.size >= (this.options.maxEntries ?? 10_000)) this.cache.clear();
      this.cache.set(key, { value, expires: now + (this.options.ttlMs ?? 3600_000) });
      return value;
    });
    this.inflight.set(key, lookup);
    try {
      return await lookup;
    } finally {
      this.inflight.delete(key);
    }
  }
}
