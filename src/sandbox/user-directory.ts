import type { SandboxUser } from './types.js';

export const DEFAULT_USERS: readonly SandboxUser[] = [
  { id: 'U0ALICE', name: 'alice', realName: 'Alice Archer', displayName: 'alice.a', email: 'alice@example.com' },
  { id: 'U0BOB', name: 'bob', realName: 'Bob Baker', displayName: 'bobby', email: 'bob@example.com' },
  { id: 'W0CAROL', name: 'carol', realName: 'Carol Cruz', displayName: 'carol', email: 'carol@example.com' },
];

/** A user the way Slack's users.* methods return it (only the fields the sandbox models). */
export interface SlackUserObject {
  id: string;
  team_id: string;
  name: string;
  deleted: boolean;
  real_name: string;
  is_bot: boolean;
  profile: { email?: string; display_name: string; real_name: string };
}

export type UserPage =
  | { ok: true; members: SandboxUser[]; nextCursor: string }
  | { ok: false; error: 'invalid_cursor' };

/**
 * The workspace's members, kept in insertion order so that users.list pages
 * are stable between calls.
 */
export class UserDirectory {
  private readonly byId = new Map<string, SandboxUser>();

  constructor(users: readonly SandboxUser[]) {
    for (const user of users) this.add(user);
  }

  /** Adds a user, or replaces the one with the same id. */
  add(user: SandboxUser): void {
    if (!user.id || !user.name) throw new TypeError('A sandbox user needs an id and a name');
    this.byId.set(user.id, { ...user });
  }

  get(id: string): SandboxUser | undefined {
    return this.byId.get(id);
  }

  all(): SandboxUser[] {
    return [...this.byId.values()];
  }

  /** Slack matches e-mail addresses case-insensitively and does not find deactivated users by e-mail. */
  findByEmail(email: string): SandboxUser | undefined {
    const wanted = email.trim().toLowerCase();
    return this.all().find((user) => !user.deleted && user.email?.toLowerCase() === wanted);
  }

  /**
   * Cursor pagination like Slack's: the cursor names the first user of the next
   * page (base64 of `user:<id>`), so users added between pages do not shift it.
   */
  page(cursor: string | undefined, limit: number): UserPage {
    const users = this.all();
    let start = 0;
    if (cursor) {
      const id = decodeCursor(cursor);
      start = users.findIndex((user) => user.id === id);
      if (start < 0) return { ok: false, error: 'invalid_cursor' };
    }
    const members = users.slice(start, start + limit);
    const next = users[start + limit];
    return { ok: true, members, nextCursor: next ? encodeCursor(next.id) : '' };
  }

  toSlack(user: SandboxUser, teamId: string): SlackUserObject {
    const realName = user.realName ?? user.name;
    return {
      id: user.id,
      team_id: teamId,
      name: user.name,
      deleted: user.deleted ?? false,
      real_name: realName,
      is_bot: user.isBot ?? false,
      profile: { email: user.email, display_name: user.displayName ?? '', real_name: realName },
    };
  }
}

function encodeCursor(userId: string): string {
  return Buffer.from(`user:${userId}`).toString('base64');
}

function decodeCursor(cursor: string): string | undefined {
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  return decoded.startsWith('user:') ? decoded.slice('user:'.length) : undefined;
}
