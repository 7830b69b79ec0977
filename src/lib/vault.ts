import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest: AES-256-GCM with ENCRYPTION_KEY. A sealed value is `v1:` + base64 of
 * iv (12 bytes) | auth tag (16 bytes) | ciphertext. Tampering or a wrong key fails to open.
 */
export interface Vault {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function createVault(key: Buffer): Vault {
  if (key.length !== 32) throw new Error('vault: the key must be 32 bytes');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    open(sealed) {
      if (!sealed.startsWith('v1:')) throw new Error('vault: unknown format');
      const raw = Buffer.from(sealed.slice(3), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

export const PLACEHOLDER = '-';

/** `-` after trimming (docs/contract.md §1). */
export const isPlaceholder = (value: string) => value.trim() === PLACEHOLDER;

/**
 * The only form in which a token leaves the vault: `xoxb-…1a2b`. Short values show nothing but
 * their prefix, so a masked form never reveals more than four characters.
 */
export function maskToken(token: string): string {
  if (isPlaceholder(token)) return PLACEHOLDER;
  const dash = token.indexOf('-');
  const prefix = dash > 0 && dash <= 5 ? token.slice(0, dash + 1) : '';
  const rest = token.slice(prefix.length);
  return rest.length >= 12 ? `${prefix}…${rest.slice(-4)}` : `${prefix}…`;
}
