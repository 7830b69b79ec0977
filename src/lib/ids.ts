import { randomBytes } from 'node:crypto';

// Crockford base32, as in ULID: ids sort by creation time and are never reused.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  for (const byte of randomBytes(16)) random += ALPHABET[byte % 32];
  return time + random;
}

export const newSubscriptionId = () => `sub_${ulid()}`;
export const newAlertId = () => `alr_${ulid()}`;
