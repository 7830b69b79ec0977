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

export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  for (const byte of random16()) random += ALPHABET[byte % 32];
  return time + random;
}

export const newSubscriptionId = () => `sub_${ulid()}`;
export const newAlertId = () => `alr_${ulid()}`;
export const newMessageId = () => `msg_${ulid()}`;
