import { createHash, randomBytes } from 'node:crypto';
import slackOAuth, { type InstallURLOptions, type StateStore } from '@slack/oauth';
import type { OAuthStateStore } from '../../db/stores.js';

const { InvalidStateError } = slackOAuth;

export const STATE_TTL_MS = 10 * 60 * 1000;

const digest = (state: string) => createHash('sha256').update(state).digest('hex');

/**
 * The `state` of an OAuth flow: random, stored only as a digest, bound to the subscription that
 * started it, single-use (verification takes it out), and expiring after 10 minutes. The library's
 * default store is stateless, so it would accept a replayed state; this one refuses it.
 */
export class SingleUseStateStore implements StateStore {
  constructor(
    private readonly states: OAuthStateStore,
    private readonly ttlMs = STATE_TTL_MS,
  ) {}

  async generateStateParam(installOptions: InstallURLOptions, now: Date): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    await this.states.put(
      {
        stateDigest: digest(state),
        subscriptionId: installOptions.metadata ?? '',
        installOptions: { ...installOptions },
        expiresAt: now.getTime() + this.ttlMs,
      },
      now.getTime(),
    );
    return state;
  }

  async verifyStateParam(now: Date, state: string): Promise<InstallURLOptions> {
    const row = await this.states.take(digest(state));
    if (!row) throw new InvalidStateError('This authorization link is unknown or was already used.');
    if (row.expiresAt <= now.getTime()) throw new InvalidStateError('This authorization link has expired.');
    return row.installOptions as unknown as InstallURLOptions;
  }
}
