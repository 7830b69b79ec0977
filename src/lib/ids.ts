import { randomBytes } from 'node:crypto';

// Crockford base32, as in ULID: ids sort by creation time and are never reused.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// Random bytes drawn from a pool: one system call per 256 ids instead of one each.
const POOL_IDS = 256;
let pool = Buffer.alloc(0);
let offset = 0;

function random16(): Buffer {
  if (offset + 16 > pool.length) {
    pool = randomBytes(16 * POOL_IDS);
    offset = 0;
  }
  offset += 16;
  return pool.subarray(offset - 16, offset);
}

/**
 * A ULID, monotonic within the process: ids made in the same millisecond (a batch's alerts) sort
 * in the order they were made, by counting up from the first one's random part, as ULID's
 * monotonic factory does. Intake orders one condition's deliveries by id (docs/contract.md §6.4).
 */
let lastTime = -1;
let lastRandom: number[] = [];

export function ulid(now = Date.now()): string {
  const fresh = () => [...random16()].map((byte) => byte % 32);
  let random: number[];
  if (now > lastTime) {
    [lastTime, lastRandom] = [now, fresh()];
    random = lastRandom;
  } else if (now === lastTime) {
    increment(lastRandom);
    random = lastRandom;
  } else {
    // an earlier time (given by the caller, or the clock stepped back): an id of its own
    random = fresh();
  }
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + random.map((digit) => ALPHABET[digit]).join('');
}

/** Adds one to a base-32 number (most significant digit first); 80 random bits do not run out in a millisecond. */
function increment(digits: number[]): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return;
    }
    digits[i] = 0;
  }
}

export const newSubscriptionId = () => `sub_${ulid()}`;
export const newAlertId = () => `alr_${ulid()}`;
/**
 * A condition's message is named after the alert that posted it: an alert posts at most one new
 * message, so an attempt that finds its post again (or a storm's other alert that finds the
 * message it was carried in) names the same row.
 */
export const messageIdFor = (alertId: string) => `msg_${alertId.replace(/^alr_/, '')}`;
