import type { SandboxMessage, SandboxMessageFilter, SandboxMessageMetadata } from './types.js';

export type MessageFilter = SandboxMessageFilter;

/** What chat.update writes; the store keeps the version it replaces. */
export interface MessageEdit {
  text: string;
  blocks: unknown[] | null;
  metadata: SandboxMessageMetadata | null;
  /** The `edited.ts` Slack shows: a fresh message-style timestamp. */
  editedTs: string;
  at: number;
}

/**
 * Messages the bot posted, replies included, in posting order. Edits replace a
 * message's record in place, so the order never changes and records handed out
 * earlier stay as they were.
 */
export class MessageStore {
  private readonly messages: SandboxMessage[] = [];
  /** Position in `messages` by channel and ts: chat.update and thread replies look messages up. */
  private readonly positions = new Map<string, number>();
  /** Team of the installation that posted each message, parallel to `messages`. */
  private readonly teams: string[] = [];

  /** `onChange` runs after every post and edit (the sandbox re-checks its waiters). */
  constructor(private readonly onChange: () => void = () => {}) {}

  add(message: SandboxMessage, team: string): void {
    this.positions.set(key(message.channel, message.ts), this.messages.length);
    this.messages.push(message);
    this.teams.push(team);
    this.onChange();
  }

  get(channel: string, ts: string): SandboxMessage | undefined {
    const position = this.positions.get(key(channel, ts));
    return position === undefined ? undefined : this.messages[position];
  }

  /** The team the message was posted in; Slack shows it as the message's `team`. */
  teamOf(message: SandboxMessage): string | undefined {
    const position = this.positions.get(key(message.channel, message.ts));
    return position === undefined ? undefined : this.teams[position];
  }

  /** Writes a new version of a stored message and returns its new record. */
  edit(channel: string, ts: string, change: MessageEdit): SandboxMessage {
    const position = this.positions.get(key(channel, ts));
    const current = position === undefined ? undefined : this.messages[position];
    if (position === undefined || !current) throw new Error(`no message ${ts} in ${channel}`);
    const replaced = { text: current.text, blocks: current.blocks, at: current.edited?.at ?? current.at };
    const updated: SandboxMessage = {
      ...current,
      text: change.text,
      blocks: change.blocks,
      metadata: change.metadata,
      edited: { ts: change.editedTs, at: change.at },
      history: [...current.history, replaced],
    };
    this.messages[position] = updated;
    this.onChange();
    return updated;
  }

  list(filter: MessageFilter = {}): SandboxMessage[] {
    return this.messages.filter((message) => matches(message, filter));
  }

  /** Forgets the messages; pending waiters keep waiting for new ones. */
  clear(): void {
    this.messages.length = 0;
    this.teams.length = 0;
    this.positions.clear();
  }
}

function key(channel: string, ts: string): string {
  return `${channel} ${ts}`;
}

function matches(message: SandboxMessage, filter: MessageFilter): boolean {
  return (
    (filter.user === undefined || message.user === filter.user) &&
    (filter.channel === undefined || message.channel === filter.channel) &&
    (filter.threadTs === undefined || message.threadTs === filter.threadTs) &&
    (filter.topLevel === undefined || (message.threadTs === null) === filter.topLevel)
  );
}

export function describeFilter(filter: MessageFilter): string {
  const parts = [
    filter.user && `for user ${filter.user}`,
    filter.channel && `in channel ${filter.channel}`,
    filter.threadTs && `in the thread of ${filter.threadTs}`,
    filter.topLevel === true && 'at top level',
    filter.topLevel === false && 'among thread replies',
  ];
  return parts.filter(Boolean).join(' ') || 'in total';
}
