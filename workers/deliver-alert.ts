import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { AlertStore } from '../src/alerts/alert-store.js';
import type { SubscriptionStore } from '../src/subscriptions/subscription-store.js';
import type { Vault } from '../src/lib/vault.js';
import type { Logger } from '../src/lib/logger.js';
import { deliveryJobSchema, type DeliveryJob } from '../src/queues/delivery-job.js';
import { pickToken, type PickedToken } from '../src/slack/token-precedence.js';
import { classifySlackError, permanentFailure, type SlackFailure } from '../src/slack/classify-error.js';
import type { SlackClientFactory } from '../src/slack/client-factory.js';
import { DeliveryFailure, type MemberDirectory } from '../src/slack/member-directory.js';
import { formatAlertMessage } from '../src/slack/alert-message.js';
import type { OAuthTokens } from '../src/slack/oauth/oauth-tokens.js';
import { SlackRateLimits } from '../src/slack/rate-limit-scopes.js';
import type { SubscriptionConcurrency } from '../src/queues/subscription-concurrency.js';
import type { EgressPolicy } from '../src/slack/egress-policy.js';

/**
 * One delivery attempt: a function of (job, deps), no process state of its own. It keeps the alert
 * record in step with the job (SPEC §3) and turns every outcome into what BullMQ should do:
 * return (done), DelayedError (rate limit, attempt not counted), UnrecoverableError (permanent
 * failure), or a plain error (transient: BullMQ retries with backoff).
 */

export interface DeliveryDeps {
  alerts: AlertStore;
  subscriptions: SubscriptionStore;
  vault: Vault;
  slack: SlackClientFactory;
  directory: MemberDirectory;
  oauthTokens: OAuthTokens;
  rateLimits: SlackRateLimits;
  concurrency: SubscriptionConcurrency;
  /** THROTTLE_<KIND>_CONCURRENCY */
  globalConcurrency: Record<'initial' | 'ongoing', number>;
  /** SLACK_API_URL: where OAuth tokens are sent */
  oauthApiUrl: string;
  /** where a bot token may be sent */
  egress: EgressPolicy;
  /** SLACK_TIMEOUT_MS: how long a post can be in flight */
  postTimeoutMs: number;
  logger: Logger;
}

export type DeliveryOutcome =
  | { outcome: 'delivered'; channel: string; ts: string }
  | { outcome: 'skipped'; reason: 'no_record' | 'already_delivered' };

export async function deliverAlert(job: Job, token: string | undefined, deps: DeliveryDeps): Promise<DeliveryOutcome> {
  const parsed = deliveryJobSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError('invalid_job: the job data does not match the delivery schema');
  const data = parsed.data;

  const record = deps.alerts.get(data.alertId);
  // No record: the intake answered 503 and removed it, so the client never took this alert as sent.
  if (!record) return { outcome: 'skipped', reason: 'no_record' };
  // A job re-run after a crash between posting and completing must not post twice.
  if (record.status === 'delivered') return { outcome: 'skipped', reason: 'already_delivered' };
  // A post may still be in flight in a worker that lost this job's lock (a Redis outage longer
  // than WORKER_LOCK_MS, say): wait until that post has answered or timed out, then look again.
  if (record.status === 'delivering') {
    const settledAt = record.updatedAt + deps.postTimeoutMs + POST_SETTLE_MARGIN_MS;
    if (Date.now() < settledAt) return await waitFor(job, token, deps, data, settledAt - Date.now(), { keepStatus: true });
  }

  const subscription = deps.subscriptions.get(data.subscriptionId);
  if (!subscription) return failPermanently(deps, data, permanentFailure('subscription_deleted'), job.attemptsMade, null);

  // The subscription's own concurrency: a job over it waits a moment without counting an attempt.
  // A limit at or above the global one is already kept by BullMQ, and needs no lease.
  const kind = record.transfer;
  const limit = subscription.throttle[kind].concurrency;
  const leased = limit < deps.globalConcurrency[kind];
  if (leased && !(await deps.concurrency.acquire(subscription.id, kind, data.alertId, limit))) {
    return await waitFor(job, token, deps, data, CONCURRENCY_WAIT_MS + Math.floor(Math.random() * CONCURRENCY_WAIT_MS));
  }
  const attempt = job.attemptsMade + 1;
  let picked: PickedToken | null = null;
  try {
    picked = pickToken({
      oauthToken: await deps.oauthTokens.current(data.subscriptionId),
      botToken: deps.vault.open(subscription.apiTokenSealed),
      subscriptionApiUrl: subscription.apiUrl,
      oauthApiUrl: deps.oauthApiUrl,
    });
    if (!picked) return failPermanently(deps, data, permanentFailure('not_authorized'), job.attemptsMade, null);
    // a subscription saved before the allow-list, or under a different ALLOWED_API_URLS
    if (!deps.egress.allows(picked.apiUrl)) return failPermanently(deps, data, permanentFailure('api_url_not_allowed'), job.attemptsMade, picked);
    const result = await postRefreshingOnce(deps, data, picked);
    await deps.alerts.markDelivered(data.alertId, { ...result, tokenSource: picked.source, attempts: attempt });
    deps.subscriptions.settleSync(subscription.id, data.alertId, null, subscription);
    return { outcome: 'delivered', ...result };
  } catch (error) {
    if (error instanceof UnrecoverableError) throw error;
    const failure = error instanceof DeliveryFailure ? error.failure : classifySlackError(error);
    return await handleFailure(job, token, deps, data, picked, failure, attempt);
  } finally {
    if (leased) await deps.concurrency.release(subscription.id, kind, data.alertId).catch(() => {});
  }
}

const CONCURRENCY_WAIT_MS = 200;
const POST_SETTLE_MARGIN_MS = 1000;

/** A rotated OAuth token that Slack calls expired is refreshed once, and the post tried again. */
async function postRefreshingOnce(deps: DeliveryDeps, data: DeliveryJob, picked: PickedToken) {
  try {
    return await post(deps, data, picked);
  } catch (error) {
    if (picked.source !== 'oauth' || classifySlackError(error).code !== 'token_expired') throw error;
    const token = await deps.oauthTokens.refresh(data.subscriptionId, picked.token);
    return post(deps, data, { ...picked, token });
  }
}

async function post(
  deps: DeliveryDeps,
  data: DeliveryJob,
  picked: PickedToken,
): Promise<{ channel: string; ts: string }> {
  const client = deps.slack.client(picked.apiUrl, picked.token);
  const scope = `${data.subscriptionId}:${picked.source}`;
  const workspace = SlackRateLimits.workspaceScope(data.subscriptionId, picked.source);
  const userId = await limited(deps, workspace, () => deps.directory.userId(client, scope, data.recipient));
  const channel = await limited(deps, workspace, () => deps.directory.dmChannel(client, scope, userId));

  // A channel (or workspace) that Slack rate-limited recently is not asked again before its time.
  const channelScope = SlackRateLimits.channelScope(data.subscriptionId, picked.source, channel);
  const pacing = await deps.rateLimits.waitMs(workspace, channelScope);
  if (pacing.waitMs > 0) {
    throw new DeliveryFailure({ kind: 'rate_limited', code: 'ratelimited', message: 'waiting out a Slack rate limit', retryAfterMs: pacing.waitMs });
  }
  const { text, blocks } = formatAlertMessage(data.message);
  // `delivering` marks the start of the one call that must not be repeated while it may be in flight.
  await deps.alerts.markDelivering(data.alertId, picked.source);
  let result;
  try {
    result = await client.chat.postMessage({ channel, text, blocks, unfurl_links: false });
  } catch (error) {
    const failure = classifySlackError(error);
    if (failure.kind !== 'rate_limited') throw error;
    // Block the channel, and take this post's paced slot behind the others already waiting.
    await deps.rateLimits.block(channelScope, failure.retryAfterMs);
    const { waitMs } = await deps.rateLimits.waitMs(workspace, channelScope);
    throw new DeliveryFailure({ ...failure, retryAfterMs: waitMs });
  }
  // Posted: nothing after this may throw into a retry (that would post twice).
  if (pacing.paced) await deps.rateLimits.recordPost(channelScope).catch(() => {});
  if (!result.ok || !result.ts) throw new DeliveryFailure(permanentFailure(result.error ?? 'unknown_error'));
  return { channel: result.channel ?? channel, ts: result.ts };
}

/** A Slack call whose 429 blocks `scope` for Retry-After, for every worker. */
async function limited<T>(deps: DeliveryDeps, scope: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const failure = classifySlackError(error);
    if (failure.kind === 'rate_limited') await deps.rateLimits.block(scope, failure.retryAfterMs);
    throw error;
  }
}

async function handleFailure(
  job: Job,
  token: string | undefined,
  deps: DeliveryDeps,
  data: DeliveryJob,
  picked: PickedToken | null,
  failure: SlackFailure,
  attempt: number,
): Promise<never> {
  const log = deps.logger.child({ alertId: data.alertId, subscriptionId: data.subscriptionId, code: failure.code });
  if (failure.kind === 'rate_limited') {
    log.info({ retryAfterMs: failure.retryAfterMs }, 'Slack rate limit; delivery delayed');
    return waitFor(job, token, deps, data, failure.retryAfterMs);
  }
  if (failure.kind === 'permanent') {
    if (failure.reauthorize) deps.subscriptions.markReauthRequired(data.subscriptionId);
    if (failure.code === 'channel_not_found' && picked) deps.directory.forget(`${data.subscriptionId}:${picked.source}`);
    return failPermanently(deps, data, failure, attempt, picked);
  }
  const maxAttempts = job.opts.attempts ?? 1;
  if (attempt >= maxAttempts) {
    deps.alerts.markFailed(data.alertId, failure, { attempts: attempt });
    deps.subscriptions.settleSync(data.subscriptionId, data.alertId, { code: failure.code, message: failure.message });
    log.warn({ attempt }, 'delivery failed: attempts exhausted');
  } else {
    deps.alerts.setStatus(data.alertId, 'retrying', {
      attempts: attempt,
      errorCode: failure.code,
      errorMessage: failure.message,
    });
    log.info({ attempt }, 'transient Slack failure; will retry');
  }
  throw new Error(`${failure.code}: ${failure.message}`);
}

/** Back to the delayed set for `ms`, unchanged: waiting is not an attempt. */
async function waitFor(
  job: Job,
  token: string | undefined,
  deps: DeliveryDeps,
  data: DeliveryJob,
  ms: number,
  { keepStatus = false } = {},
): Promise<never> {
  if (!keepStatus) deps.alerts.setStatus(data.alertId, 'queued');
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

function failPermanently(
  deps: DeliveryDeps,
  data: DeliveryJob,
  failure: SlackFailure,
  attempts: number,
  picked: PickedToken | null,
): never {
  deps.alerts.markFailed(data.alertId, failure, { attempts, tokenSource: picked?.source ?? null });
  deps.subscriptions.settleSync(data.subscriptionId, data.alertId, { code: failure.code, message: failure.message });
  deps.logger.warn({ alertId: data.alertId, subscriptionId: data.subscriptionId, code: failure.code }, 'delivery failed');
  throw new UnrecoverableError(`${failure.code}: ${failure.message}`);
}
