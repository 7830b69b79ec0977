import { z } from 'zod';
import type { Config } from '../config.js';
import type { EgressPolicy } from '../slack/egress-policy.js';
import { AppError, notFound } from '../errors.js';
import { storableText, type LastSync, type ThrottleSettings } from '../domain.js';
import type { InstallationRow, SubscriptionRow } from '../db/rows.js';
import { NameTakenError, type AlertStore, type InstallationStore, type SubscriptionChanges, type SubscriptionStore } from '../db/stores.js';
import { newSubscriptionId } from '../lib/ids.js';
import { isPlaceholder, maskToken, PLACEHOLDER, type Vault } from '../lib/vault.js';
import { parseInput } from '../lib/validation.js';
import { definedOnly } from '../lib/defined-only.js';

/**
 * Subscriptions (docs/contract.md §1): validation, token sealing and masking, and the shape every API and page
 * shows. Saving never contacts Slack.
 */

export interface SubscriptionServiceDeps {
  store: SubscriptionStore;
  installations: InstallationStore;
  /** a pending sync is shown with its test message's outcome */
  alerts: Pick<AlertStore, 'get'>;
  vault: Vault;
  config: Pick<Config, 'slack' | 'throttle'>;
  /** where an apiUrl may point (docs/contract.md §6.2) */
  egress: EgressPolicy;
  now?: () => number;
}

export interface SubscriptionView {
  id: string;
  name: string;
  version: string;
  apiUrl: string;
  apiToken: string;
  clientId: string;
  recipient: string | null;
  throttle: ThrottleSettings;
  authorization: {
    method: 'oauth' | 'bot_token' | 'none';
    status: 'OAuth Process Complete' | 'Bot token' | 'Not authorized' | 'Re-authorization required';
    team: { id: string; name: string } | null;
  };
  lastSync: LastSync | null;
  createdAt: string;
  updatedAt: string;
}

const requiredSetting = (label: string) =>
  z
    .string()
    .trim()
    .min(1, `${label} must not be blank; enter ${PLACEHOLDER} when you authorise with OAuth`)
    .max(500)
    // it travels in an Authorization header: printable ASCII only, so it can never be echoed or split
    // (the masked form, `xoxb-…1a2b`, comes back from forms and PATCHes to keep the stored token)
    .refine((value) => /^[\x21-\x7e]*…?[\x21-\x7e]*$/.test(value), `${label} must hold printable characters only, no spaces or control characters`);

/** A masked token (`xoxb-…1a2b`) is no token: it may only stand for the one stored. */
const isMasked = (value: string) => value.includes('…');
const maskedNotStored = () =>
  new AppError('invalid_request', 400, 'apiToken is masked (…): send the new token, or the masked form unchanged to keep the stored one.', [
    { path: ['apiToken'], message: 'send the new token, or the masked form unchanged' },
  ]);

/** What ids look like (lib/ids.ts): a name of that shape could catch another subscription's alerts. */
const ID_SHAPE = /^sub_[0-9a-z]{26}$/i;

const limitsSchema = z.strictObject({
  limit: z.number().int().min(1).max(100_000).optional(),
  seconds: z.number().int().min(1).max(86_400).optional(),
  concurrency: z.number().int().min(1).max(10_000).optional(),
});
const throttleSchema = z.strictObject({ initial: limitsSchema.optional(), ongoing: limitsSchema.optional() });

const fields = {
  name: storableText().trim().min(1).max(100).refine((name) => !ID_SHAPE.test(name), 'must not look like a subscription id (sub_…)'),
  version: storableText().trim().min(1).max(50),
  // the syntax here; where it may point, by the egress policy (api_url_not_allowed)
  apiUrl: z.url({ protocol: /^https?$/ }).max(500),
  apiToken: requiredSetting('apiToken'),
  clientId: requiredSetting('clientId'),
  recipient: storableText()
    .trim()
    .max(254)
    .nullable()
    .transform((value) => (value ? value : null)),
  throttle: throttleSchema,
};

const createSchema = z.strictObject({
  ...fields,
  apiUrl: fields.apiUrl.optional(),
  recipient: fields.recipient.optional(),
  throttle: fields.throttle.optional(),
});
const updateSchema = z.strictObject(fields).partial();

export class SubscriptionService {
  private readonly now: () => number;

  constructor(private readonly deps: SubscriptionServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async list(): Promise<SubscriptionView[]> {
    const [rows, installations] = await Promise.all([this.deps.store.list(), this.deps.installations.bySubscription()]);
    return Promise.all(rows.map(async (row) => toView(row, installations.get(row.id), await this.currentSync(row.lastSync))));
  }

  async get(id: string): Promise<SubscriptionView> {
    return this.view(await this.require(id));
  }

  async require(id: string): Promise<SubscriptionRow> {
    const row = await this.deps.store.get(id);
    if (!row) throw notFound(`No subscription ${JSON.stringify(id)}.`);
    return row;
  }

  async create(body: unknown): Promise<SubscriptionView> {
    const input = parseInput(createSchema, body);
    if (isMasked(input.apiToken)) throw maskedNotStored();
    const apiUrl = input.apiUrl === undefined ? this.deps.config.slack.apiUrl : this.deps.egress.checkApiUrl(input.apiUrl);
    const nameKey = input.name.toLowerCase();
    const now = this.now();
    const row: SubscriptionRow = {
      id: newSubscriptionId(),
      name: input.name,
      nameKey,
      version: input.version,
      apiUrl,
      ...this.sealToken(input.apiToken),
      clientId: input.clientId,
      recipient: input.recipient ?? null,
      throttle: mergeThrottle(this.deps.config.throttle, input.throttle),
      reauthRequired: false,
      teamId: null,
      teamName: null,
      lastSync: null,
      createdAt: now,
      updatedAt: now,
    };
    await unique(this.deps.store.insert(row));
    return this.view(row);
  }

  async update(id: string, body: unknown): Promise<SubscriptionView> {
    const current = await this.require(id);
    const input = parseInput(updateSchema, body);
    const changes: SubscriptionChanges = {};

    if (input.name !== undefined && input.name !== current.name) {
      Object.assign(changes, { name: input.name, nameKey: input.name.toLowerCase() });
    }
    if (input.version !== undefined) changes.version = input.version;
    if (input.clientId !== undefined) changes.clientId = input.clientId;
    if (input.recipient !== undefined) changes.recipient = input.recipient;
    if (input.throttle !== undefined) changes.throttle = mergeThrottle(current.throttle, input.throttle);

    // The masked form (or the field left out) keeps the stored token.
    const newToken =
      input.apiToken !== undefined && input.apiToken !== current.apiTokenMask ? input.apiToken : undefined;
    if (newToken !== undefined && isMasked(newToken)) throw maskedNotStored();
    if (newToken !== undefined) Object.assign(changes, this.sealToken(newToken), { reauthRequired: false });
    const apiUrl = input.apiUrl === undefined ? undefined : this.deps.egress.checkApiUrl(input.apiUrl);
    if (apiUrl !== undefined && apiUrl !== current.apiUrl) {
      // A token must never be redirected to another host (§1): not the stored one, and not the next
      // one either, so a placeholder does not let the URL move ahead of the token that will follow it.
      if (newToken === undefined || isPlaceholder(newToken)) {
        throw new AppError('token_required', 400, 'Changing apiUrl needs a new apiToken (a bot token, not -) in the same request.');
      }
      changes.apiUrl = apiUrl;
    }

    if (Object.keys(changes).length > 0) {
      changes.updatedAt = this.now();
      await unique(this.deps.store.update(id, changes));
    }
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.deps.store.delete(id))) throw notFound(`No subscription ${JSON.stringify(id)}.`);
  }

  /** Forget the stored OAuth token: the bot token applies again (§2). */
  async forgetAuthorization(id: string): Promise<void> {
    await this.require(id);
    if (await this.deps.installations.delete(id)) {
      await this.deps.store.update(id, { reauthRequired: false, updatedAt: this.now() });
    }
  }

  async view(row: SubscriptionRow): Promise<SubscriptionView> {
    return toView(row, await this.deps.installations.get(row.id), await this.currentSync(row.lastSync));
  }

  /**
   * A sync stays `pending` until its test message has an outcome, which the record lifecycle's
   * hook writes a moment after the record itself: shown from the record, so that no reader ever
   * sees the record final and the sync still pending.
   */
  private async currentSync(lastSync: LastSync | null): Promise<LastSync | null> {
    if (lastSync?.status !== 'pending' || !lastSync.alertId) return lastSync;
    const record = await this.deps.alerts.get(lastSync.alertId);
    if (record?.status === 'delivered') return { ...lastSync, status: 'ok', error: null };
    if (record?.status === 'failed') return { ...lastSync, status: 'failed', error: { code: record.errorCode ?? 'unknown_error', message: record.errorMessage ?? '' } };
    return lastSync;
  }

  private sealToken(token: string): Pick<SubscriptionRow, 'apiTokenSealed' | 'apiTokenMask'> {
    const value = isPlaceholder(token) ? PLACEHOLDER : token;
    return { apiTokenSealed: this.deps.vault.seal(value), apiTokenMask: maskToken(value) };
  }
}

/** The unique index is the final word when two requests race for one name. */
async function unique(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (error instanceof NameTakenError) throw new AppError('name_taken', 409, 'A subscription with this name already exists.');
    throw error;
  }
}

function mergeThrottle(
  base: ThrottleSettings,
  patch: z.infer<typeof throttleSchema> | undefined,
): ThrottleSettings {
  return {
    initial: { ...base.initial, ...definedOnly(patch?.initial) },
    ongoing: { ...base.ongoing, ...definedOnly(patch?.ongoing) },
  };
}

export function toView(row: SubscriptionRow, installation: InstallationRow | undefined, lastSync = row.lastSync): SubscriptionView {
  const hasBotToken = row.apiTokenMask !== PLACEHOLDER;
  const method = installation ? 'oauth' : hasBotToken ? 'bot_token' : 'none';
  const status = row.reauthRequired
    ? 'Re-authorization required'
    : method === 'oauth'
      ? 'OAuth Process Complete'
      : method === 'bot_token'
        ? 'Bot token'
        : 'Not authorized';
  const teamId = installation?.teamId ?? row.teamId;
  const teamName = installation?.teamName ?? row.teamName;
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    apiUrl: row.apiUrl,
    apiToken: row.apiTokenMask,
    clientId: row.clientId,
    recipient: row.recipient,
    throttle: row.throttle,
    authorization: { method, status, team: teamId ? { id: teamId, name: teamName ?? '' } : null },
    lastSync,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}
