import { randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';

/**
 * What the baselines put in Redis: the same job shape and options as the relay's
 * (src/queues/alert-queues.ts), written out here so that the baselines depend on no product code.
 */
export const BASELINE_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};

export interface BaselineMessage {
  title?: string;
  text: string;
  severity: 'info' | 'warning' | 'error' | 'critical';
}

export interface BaselineJob {
  alertId: string;
  subscriptionId: string;
  recipient: string;
  message: BaselineMessage;
}

export function baselineJob(message: BaselineMessage, recipient = 'U0ALICE'): { name: string; data: BaselineJob; opts: JobsOptions } {
  const alertId = `alr_${randomUUID()}`;
  const data = { alertId, subscriptionId: 'sub_BASELINE', recipient, message };
  return { name: `${data.subscriptionId} → ${recipient}`, data, opts: { ...BASELINE_JOB_OPTIONS, jobId: alertId } };
}

/** The same Block Kit shape the relay posts (header, severity context, text section). */
export function baselineBlocks(message: BaselineMessage): { text: string; blocks: Record<string, unknown>[] } {
  const word = message.severity[0]!.toUpperCase() + message.severity.slice(1);
  const escaped = message.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const blocks: Record<string, unknown>[] = [];
  if (message.title) blocks.push({ type: 'header', text: { type: 'plain_text', text: message.title, emoji: true } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `:warning: *${word}*` }] });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escaped } });
  const text = message.title ? `[${word}] ${message.title}: ${message.text}` : `[${word}] ${message.text}`;
  return { text, blocks };
}
