import type { SandboxMessage } from './types.js';

export interface MessageFilter {
  user?: string;
  channel?: string;
}

interface Waiter {
  check(): void;
  fail(error: Error): void;
}

/** Messages the bot posted, plus the promises of tests waiting for them. */
export class MessageStore {
  private readonly messages: SandboxMessage[] = [];
  private readonly waiters = new Set<Waiter>();

  add(message: SandboxMessage): void {
    this.messages.push(message);
    for (const waiter of [...this.waiters]) waiter.check();
  }

  list(filter: MessageFilter = {}): SandboxMessage[] {
    return this.messages.filter(
      (message) =>
        (filter.user === undefined || message.user === filter.user) &&
        (filter.channel === undefined || message.channel === filter.channel),
    );
  }

  /** Forgets the messages; pending waiters keep waiting for new ones. */
  clear(): void {
    this.messages.length = 0;
  }

  waitFor(count: number, filter: MessageFilter, timeoutMs: number): Promise<SandboxMessage[]> {
    const current = this.list(filter);
    if (current.length >= count) return Promise.resolve(current);
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check: () => {
          const found = this.list(filter);
          if (found.length < count) return;
          finish();
          resolve(found);
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        const got = this.list(filter).length;
        waiter.fail(
          new Error(`waitForMessages: expected ${count} message(s) ${describe(filter)}, got ${got} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Rejects every pending waiter, so a closed sandbox leaves no test hanging. */
  failWaiters(reason: string): void {
    for (const waiter of [...this.waiters]) waiter.fail(new Error(`waitForMessages: ${reason}`));
  }
}

function describe(filter: MessageFilter): string {
  const parts = [filter.user && `for user ${filter.user}`, filter.channel && `in channel ${filter.channel}`];
  return parts.filter(Boolean).join(' ') || 'in total';
}
