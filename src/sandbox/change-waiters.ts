interface Pending {
  label: string;
  check(): void;
  fail(error: Error): void;
}

/**
 * Promises of tests waiting for the sandbox to reach some state. Each waiter
 * owns a probe; `notify()` (called on every post, edit and answered call)
 * re-runs the probes, and a probe's first result other than undefined, null
 * or false resolves its promise.
 */
export class ChangeWaiters {
  private readonly pending = new Set<Pending>();

  /**
   * `label` prefixes the errors (e.g. "waitForMessages"); `describeTimeout`
   * says what was expected and what was found when the time is up.
   */
  wait<T>(
    label: string,
    probe: () => T | null | undefined | false,
    timeoutMs: number,
    describeTimeout: () => string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.pending.delete(waiter);
      };
      const waiter: Pending = {
        label,
        check: () => {
          let found: T | null | undefined | false;
          try {
            found = probe();
          } catch (error) {
            // A probe that throws (a test's own predicate) should fail the wait, not the sandbox.
            finish();
            reject(error);
            return;
          }
          if (found === undefined || found === null || found === false) return;
          finish();
          resolve(found);
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(() => waiter.fail(new Error(`${label}: ${describeTimeout()} within ${timeoutMs} ms`)), timeoutMs);
      this.pending.add(waiter);
      waiter.check();
    });
  }

  notify(): void {
    for (const waiter of [...this.pending]) waiter.check();
  }

  /** Rejects every pending waiter, so a closed sandbox leaves no test hanging. */
  failAll(reason: string): void {
    for (const waiter of [...this.pending]) waiter.fail(new Error(`${waiter.label}: ${reason}`));
  }
}
