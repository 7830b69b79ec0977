import type { SandboxMessage } from '../../src/sandbox/index.js';
import { carriedAlertIds } from '../../src/slack/message-format.js';

/** The most posts (or alerts carried) seen in any sliding window of `windowMs`. */
export function maxInSlidingWindow(messages: { at: number }[], windowMs: number): number {
  const times = messages.map((m) => m.at).sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** Posts per fixed window aligned to the epoch (as the relay's reservations are). */
export function perFixedWindow(messages: { at: number }[], windowMs: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const m of messages) {
    const window = Math.floor(m.at / windowMs);
    counts.set(window, (counts.get(window) ?? 0) + 1);
  }
  return counts;
}

/**
 * Waits for the start of the next window of `windowMs` (aligned to the epoch, as the relay's
 * reservations are to Redis's clock on this machine) unless the current one has just begun: alerts
 * sent then have most of a window before their posts could spill into the next one, so that a
 * slow moment cannot make a window's posts land in the next window's count.
 */
export async function atWindowStart(windowMs: number): Promise<void> {
  const into = Date.now() % windowMs;
  if (into > windowMs / 10) await new Promise((resolve) => setTimeout(resolve, windowMs - into + 10));
}

/**
 * The alerts the messages carry, each at its message's time: a storm's message (§6.5) carries
 * the alert that posted it and the others its metadata names.
 */
export function alertsCarried(messages: SandboxMessage[]): { at: number; alertId: string }[] {
  return messages.flatMap((message) => {
    return carriedAlertIds(message.metadata).map((alertId) => ({ at: message.at, alertId }));
  });
}
