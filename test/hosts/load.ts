/**
 * The load of the many-hosts test: `total` POST /api/v1/alerts, op n to web process n % 2, at most
 * `concurrency` at a time and at most `ratePerSecond` starts a second. Two ops in every 20 (~10 %)
 * repeat the idempotency key (and payload) of an alert that was already accepted by the *other*
 * web process; the others are new alerts, each with its own key and a unique marker in its text.
 *
 * A 503 is retried (same web process, same key, same payload) after `retryDelayMs` until the
 * alert is accepted; its latency is kept, to check that "unavailable" is answered within a
 * second. Anything else that is not the expected answer (a 500, another status, a network error,
 * no answer within `requestTimeoutMs`) is kept as unexpected, and retried as well, so that one
 * failure does not hide what follows.
 */

export interface Attempt {
  web: number;
  startedAt: number;
  endedAt: number;
  /** the HTTP status, or 'error' (network) / 'timeout' (no answer within requestTimeoutMs) */
  status: number | 'error' | 'timeout';
  /** the answer's `error` code, or the network error */
  detail: string;
}

export interface DistinctAlert {
  /** 0-based alert number: the marker in its text */
  n: number;
  key: string;
  body: Record<string, unknown>;
  web: number;
  id: string | null;
  /** the status that accepted it: 202, or 200 if an earlier attempt answered 503 yet stored it */
  acceptedWith: number | null;
  acceptedAt: number | null;
  attempts: Attempt[];
}

export interface RepeatSend {
  op: number;
  of: number;
  web: number;
  expectedId: string;
  status: number | null;
  id: string | null;
  attempts: Attempt[];
}

export interface LoadOptions {
  webUrls: string[];
  intakeKey: string;
  subscriptionId: string;
  recipients: string[];
  /** marker of alert n: must match `markerPattern` in the Slack front */
  marker(n: number): string;
  runId: string;
  total: number;
  concurrency: number;
  ratePerSecond: number;
  requestTimeoutMs: number;
  retryDelayMs: number;
  /** give up on an op after this long (the test then fails on it) */
  opDeadlineMs: number;
  onAccepted?(distinctAccepted: number, alert: DistinctAlert): void;
  /** every answer (or failure), as it comes */
  onAnswer?(attempt: Attempt): void;
  /** no op starts after this (Date.now() value); the ones not started count as never accepted */
  stopStartingAt?: number;
}

export interface LoadResult {
  alerts: DistinctAlert[];
  repeats: RepeatSend[];
  /** every 503 answer */
  unavailable: Attempt[];
  /** every answer that was neither the expected one nor a 503 */
  unexpected: (Attempt & { op: number; what: string })[];
  /** ops never started: the load ran out of time (stopStartingAt) */
  skipped: number;
  startedAt: number;
  endedAt: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Ops n with n % 20 in {9, 18} are repeats: 10 %, landing on web 1 and web 0 in turn. */
export const isRepeatOp = (op: number) => op % 20 === 9 || op % 20 === 18;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { webUrls, total } = options;
  const alerts: DistinctAlert[] = [];
  const repeats: RepeatSend[] = [];
  const unavailable: Attempt[] = [];
  const unexpected: LoadResult['unexpected'] = [];
  // accepted alerts not repeated yet, per web process that accepted them
  const repeatable: DistinctAlert[][] = webUrls.map(() => []);
  const waiters: (() => void)[] = [];
  let accepted = 0;
  const startedAt = Date.now();

  const post = async (web: number, key: string, body: Record<string, unknown>): Promise<{ attempt: Attempt; json: any }> => {
    const attemptStart = Date.now();
    try {
      const res = await fetch(`${webUrls[web]}/api/v1/alerts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.intakeKey}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      });
      const text = await res.text();
      let json: any = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = { raw: text.slice(0, 300) };
      }
      return { attempt: { web, startedAt: attemptStart, endedAt: Date.now(), status: res.status, detail: String(json?.error ?? '') }, json };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const timeout = e.name === 'TimeoutError' || e.name === 'AbortError';
      return {
        attempt: { web, startedAt: attemptStart, endedAt: Date.now(), status: timeout ? 'timeout' : 'error', detail: `${e.message} ${e.cause?.code ?? ''}`.trim() },
        json: null,
      };
    }
  };

  /** Sends until `accept` says done; 503s and unexpected answers are retried. */
  const sendUntil = async (
    op: number,
    web: number,
    key: string,
    body: Record<string, unknown>,
    attempts: Attempt[],
    judge: (attempt: Attempt, json: any, earlier503: boolean) => 'done' | 'unexpected-done' | 'retry-unexpected',
  ) => {
    const deadline = Date.now() + options.opDeadlineMs;
    let earlier503 = false;
    for (;;) {
      const { attempt, json } = await post(web, key, body);
      attempts.push(attempt);
      options.onAnswer?.(attempt);
      if (attempt.status === 503 && attempt.detail === 'unavailable') {
        unavailable.push(attempt);
        earlier503 = true;
      } else {
        const verdict = judge(attempt, json, earlier503);
        if (verdict === 'done') return json;
        unexpected.push({ ...attempt, op, what: `${JSON.stringify(json)?.slice(0, 300)}` });
        if (verdict === 'unexpected-done') return json;
      }
      if (Date.now() > deadline) {
        unexpected.push({ ...attempt, op, what: `gave up after ${options.opDeadlineMs} ms of retries` });
        return null;
      }
      await sleep(attempt.status === 503 ? options.retryDelayMs : 500);
    }
  };

  const first = async (op: number, n: number) => {
    const web = op % webUrls.length;
    const alert: DistinctAlert = {
      n,
      key: `${options.runId}-k${n}`,
      body: {
        subscription: options.subscriptionId,
        title: `Host check ${n}`,
        text: `Disk almost full on db-${n % 97} ${options.marker(n)}`,
        severity: (['info', 'warning', 'error', 'critical'] as const)[n % 4],
        recipient: options.recipients[n % options.recipients.length],
        fields: { host: `db-${n % 97}`, run: options.runId },
      },
      web,
      id: null,
      acceptedWith: null,
      acceptedAt: null,
      attempts: [],
    };
    alerts[n] = alert;
    try {
      await sendUntil(op, web, alert.key, alert.body, alert.attempts, (attempt, json, earlier503) => {
        // 202 accepted; or 200 "repeated" when an earlier attempt of this very key answered 503 but stored it
        const ok = attempt.status === 202 || (attempt.status === 200 && earlier503);
        if (ok && typeof json?.id === 'string') {
          alert.id = json.id;
          alert.acceptedWith = attempt.status as number;
          alert.acceptedAt = attempt.endedAt;
          return 'done';
        }
        return 'retry-unexpected';
      });
    } finally {
      if (alert.id) {
        accepted += 1;
        repeatable[web]!.push(alert);
        options.onAccepted?.(accepted, alert);
      }
      // a repeat waiting for something to repeat looks again (and at its deadline)
      waiters.splice(0).forEach((wake) => wake());
    }
  };

  const repeat = async (op: number) => {
    const web = op % webUrls.length;
    const other = (web + 1) % webUrls.length;
    // an alert the other web process has accepted (answered), not repeated yet
    const deadline = Date.now() + options.opDeadlineMs;
    while (repeatable[other]!.length === 0) {
      if (Date.now() > deadline) throw new Error(`no alert accepted by web ${other} to repeat`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
    const pool = repeatable[other]!;
    const original = pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!;
    const send: RepeatSend = { op, of: original.n, web, expectedId: original.id!, status: null, id: null, attempts: [] };
    repeats.push(send);
    await sendUntil(op, web, original.key, original.body, send.attempts, (attempt, json) => {
      send.status = typeof attempt.status === 'number' ? attempt.status : null;
      send.id = typeof json?.id === 'string' ? json.id : null;
      if (attempt.status === 200 && send.id === original.id) return 'done';
      // a 202 would be a second alert for one key: nothing to retry, the damage is done
      if (attempt.status === 202) return 'unexpected-done';
      return 'retry-unexpected';
    });
  };

  // ops in order, each starting no earlier than its slot of the rate
  let nextOp = 0;
  let distinct = 0;
  let skipped = 0;
  const lane = async () => {
    for (;;) {
      const op = nextOp++;
      if (op >= total) return;
      if (options.stopStartingAt !== undefined && Date.now() > options.stopStartingAt) {
        skipped += 1;
        continue;
      }
      const slot = startedAt + (op * 1000) / options.ratePerSecond;
      const wait = slot - Date.now();
      if (wait > 0) await sleep(wait);
      if (isRepeatOp(op)) await repeat(op);
      else await first(op, distinct++);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  return { alerts, repeats, unavailable, unexpected, skipped, startedAt, endedAt: Date.now() };
}
