/**
 * Group commit: work submitted during one turn of the event loop is flushed together, in one
 * call. Under load, the concurrent requests' writes share one SQLite transaction and one Redis
 * round trip instead of paying for one each; alone, a request waits only for the next turn.
 * Each submitter gets back the results of its own items, or the flush's error.
 */
export class GroupCommit<I, O> {
  private pending: { items: I[]; resolve: (results: O[]) => void; reject: (error: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly flush: (items: I[]) => Promise<O[]>) {}

  submit(items: I[]): Promise<O[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.run());
      }
    });
  }

  private async run(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    try {
      const results = await this.flush(batch.flatMap((entry) => entry.items));
      let offset = 0;
      for (const entry of batch) {
        entry.resolve(results.slice(offset, offset + entry.items.length));
        offset += entry.items.length;
      }
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }
}
