import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createVault, maskToken, isPlaceholder } from '../../src/lib/vault.js';

describe('vault', () => {
  const vault = createVault(randomBytes(32));

  it('round-trips and never stores the plain text', () => {
    const sealed = vault.seal('xoxb-secret-value-1234');
    expect(sealed).not.toContain('xoxb');
    expect(sealed.startsWith('v1:')).toBe(true);
    expect(vault.open(sealed)).toBe('xoxb-secret-value-1234');
    expect(vault.seal('same')).not.toBe(vault.seal('same'));
  });

  it('refuses a tampered value or another key', () => {
    const sealed = vault.seal('xoxb-secret');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => vault.open(`v1:${raw.toString('base64')}`)).toThrow();
    expect(() => createVault(randomBytes(32)).open(sealed)).toThrow();
  });

  it('masks tokens as xoxb-…1a2b and never shows more than four characters', () => {
    expect(maskToken('xoxb-1111111111-2222222222-abcd1a2b')).toBe('xoxb-…1a2b');
    expect(maskToken('-')).toBe('-');
    expect(maskToken('xoxb-short')).toBe('xoxb-…');
    expect(maskToken('plainsecretvalue9876')).toBe('…9876');
  });

  it('knows the placeholder', () => {
    expect(isPlaceholder(' - ')).toBe(true);
    expect(isPlaceholder('--')).toBe(false);
  });
});
