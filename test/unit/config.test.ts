import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('applies docs/contract.md §5 defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    const config = loadConfig({ DATABASE_PATH: join(dir, 'relay.db') });
    expect(config.port).toBe(3000);
    expect(config.queuePrefix).toBe('relay');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
    expect(config.throttle).toEqual({
      initial: { limit: 5, seconds: 60, concurrency: 5 },
      ongoing: { limit: 500, seconds: 60, concurrency: 500 },
    });
    expect(config.worker).toEqual({
      concurrency: 50, attempts: 8, retryBaseMs: 1000, lockMs: 30000, stalledIntervalMs: 30000, sweepIntervalMs: 30000, sweepMinAgeMs: 60000,
    });
    expect(config.slack.timeoutMs).toBe(10000);
    expect(config.slack.oauth).toBeNull();
  });

  it('refuses to start in production without the three secrets, naming them', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', API_KEYS: 'k' })).toThrow(/ENCRYPTION_KEY, ADMIN_PASSWORD/);
  });

  it('generates development credentials once, mode 0600, shared by every process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    const first = loadConfig({ DATABASE_PATH: join(dir, 'relay.db') });
    const second = loadConfig({ DATABASE_PATH: join(dir, 'relay.db') });
    const file = join(dir, 'credentials.env');
    expect(first.credentialsFile).toBe(file);
    expect(second.apiKeys).toEqual(first.apiKeys);
    expect(second.encryptionKey.equals(first.encryptionKey)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^API_KEYS=dev_/m);
  });

  it('rejects bad values with a clear message', () => {
    const env = { ENCRYPTION_KEY: randomBytes(16).toString('base64'), API_KEYS: 'k', ADMIN_PASSWORD: 'p' };
    expect(() => loadConfig(env)).toThrow(/32 bytes/);
    expect(() => loadConfig({ ...env, ENCRYPTION_KEY: randomBytes(32).toString('base64'), PORT: 'abc' })).toThrow(/PORT/);
  });
});
