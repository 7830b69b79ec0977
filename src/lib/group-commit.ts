/**
 * Group commit: work submitted during one turn of the event loop is flushed together, in one
 * call. Under load, the concurrent requests' writes share one transaction and one Redis round
 * trip instead of paying for one each; alone, a request waits only for the next turn.
 *
 * `flush` sees each submission as its own list and answers one result per submission, so one
 * request's refusal (a reused idempotency key, say) stays that request's; an error thrown by
 * `flush` itself is every submitter's.
 */
export class GroupCommit<I, R> {
  private pending: { items: I[]; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  private pendingItems = 0;
  private scheduled = false;

  /**
   * @param maxItems a group that reaches this many items is flushed at once, without waiting for
   *   the turn to end: several smaller groups in flight keep both this process and Redis busy,
   *   where one large group would leave each waiting for the other.
   */
  constructor(
    private readonly flush: (submissions: I[][]) => Promise<R[]>,
    private readonly maxItems = Infinity,
  ) {}

  submit(items: I[]): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      this.pendingItems += items.length;
      if (this.pendingItems >= this.maxItems) void this.run();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.run());
      }
    });
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingItems = 0;
    try {
      const results = await this.flush(batch.map((entry) => entry.items));
      batch.forEach((entry, i) => entry.resolve(results[i]!));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }
}
