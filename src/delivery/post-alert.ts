import type { DeliveryJob } from '../queues/delivery-job.js';
import { formatAlertMessage } from '../slack/alert-message.js';
import { classifySlackError, DeliveryFailure, permanentFailure, remoteId, remoteTs } from '../slack/errors.js';
import type { PickedToken } from '../slack/token-precedence.js';
import type { DeliveryDeps } from './deliver.js';

type Posted = { outcome: 'posted'; channel: string; ts: string } | { outcome: 'wait'; afterMs: number };

/**
 * The DM itself: find the member, open the DM, wait for a channel Slack limited, post. A rotated
 * OAuth token that Slack calls expired is refreshed once, and the post tried again.
 */
export async function postAlert(deps: DeliveryDeps, job: DeliveryJob, picked: PickedToken): Promise<Posted> {
  try {
    return await post(deps, job, picked);
  } catch (error) {
    if (picked.source !== 'oauth' || classifySlackError(error).code !== 'token_expired') throw error;
    const token = await deps.tokens.refresh(job.subscriptionId, picked.token);
    return post(deps, job, { ...picked, token });
  }
}

async function post(deps: DeliveryDeps, job: DeliveryJob, picked: PickedToken): Promise<Posted> {
  const slack = deps.slack.session({ subscriptionId: job.subscriptionId, ...picked });
  const userId = await deps.directory.userId(slack, job.recipient);
  const channel = await deps.directory.dmChannel(slack, userId);

  // A channel (or workspace) that Slack rate-limited recently is not asked again before its time.
  const pacing = await slack.pace(channel);
  if (pacing.waitMs > 0) return { outcome: 'wait', afterMs: pacing.waitMs };
  const { text, blocks } = formatAlertMessage(job.message);
  // `delivering` marks the start of the one call that must not be repeated while it may be in flight.
  await deps.lifecycle.delivering(job.alertId, picked.source);
  const result = await slack.call('chat.postMessage', { channel, text, blocks, unfurl_links: false });
  // Posted: nothing after this may throw into a retry (that would post twice).
  if (pacing.paced) await slack.posted(channel);
  const ts = remoteTs(result.ts);
  if (!result.ok || !ts) throw new DeliveryFailure(permanentFailure(result.ok ? 'invalid_response' : (result.error ?? 'invalid_response')));
  return { outcome: 'posted', channel: remoteId(result.channel) ?? channel, ts };
}
