import { z } from 'zod';
import { alertMessageSchema, storableText, type AlertEvent, type AlertInput, type Severity } from '../../domain.js';
import { atIndex } from '../../errors.js';
import { parseInput } from '../../lib/validation.js';

/**
 * What Alertmanager's webhook (payload v4) and Grafana's webhook contact point (v1) share: a
 * notification of up to 1,000 alerts, each with labels, annotations, a fingerprint and a status
 * (docs/contract.md §6.4). Each alert becomes one relay alert input: its fingerprint is its
 * `dedupKey`, and fingerprint, status and `startsAt` name the notification for HA deduplication.
 * Remote text is cut to the relay's limits rather than refused: a long description must not lose
 * the whole notification. Text no database can store (NUL, lone surrogates) is refused.
 */

/** Alertmanager's `max_alerts` should be at most this (a larger group is refused whole). */
export const MAX_NOTIFICATION_ALERTS = 1000;
const MAX_FIELDS = 10;
const TEXT_LIMIT = 4000;
const TITLE_LIMIT = 150;
const FIELD_NAME_LIMIT = 50;
export const FIELD_VALUE_LIMIT = 500;
const LINK_LIMIT = 2000;

const labelMap = z.record(storableText().max(10_000), storableText().max(100_000));

/** One alert of a notification; other fields either sender adds are ignored. */
export const monitoringAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: storableText().min(1).max(64),
  fingerprint: storableText().trim().min(1).max(255),
  generatorURL: storableText().max(100_000).optional(),
});
export type MonitoringAlert = z.output<typeof monitoringAlertSchema>;

export const alertsArray = z
  .array(z.unknown())
  .min(1, 'at least one alert')
  .max(MAX_NOTIFICATION_ALERTS, `at most ${MAX_NOTIFICATION_ALERTS.toLocaleString('en')} alerts (set max_alerts in the receiver)`);

export interface NotificationTarget {
  subscription: string;
  /** the member, unless an alert's `recipient` label names one */
  recipient?: string;
}

/** Each item of `alerts`, parsed and mapped; refused whole, with the index, if any item is not an alert. */
export function mapAlerts<T extends MonitoringAlert>(
  alerts: unknown[],
  schema: z.ZodType<T>,
  target: NotificationTarget,
  extras: (alert: T) => { text?: string; fields?: [string, string][] } = () => ({}),
): AlertInput[] {
  return alerts.map((item, index) => {
    try {
      const alert = parseInput(schema, item);
      return toInput(alert, target, extras(alert));
    } catch (error) {
      throw atIndex(error, index);
    }
  });
}

/** Labels the message shows elsewhere (or routes by), not as fields. */
const NOT_FIELDS = new Set(['alertname', 'severity', 'recipient']);

function toInput(alert: MonitoringAlert, target: NotificationTarget, extra: { text?: string; fields?: [string, string][] }): AlertInput {
  const { labels, annotations } = alert;
  const name = labels.alertname?.trim() || undefined;
  const description = annotations.summary?.trim() || annotations.description?.trim() || name || `Alert ${alert.fingerprint}`;
  const text = clip([description, extra.text].filter(Boolean).join('\n'), TEXT_LIMIT);
  const labelFields = Object.entries(labels).filter(([key]) => !NOT_FIELDS.has(key));
  const fields = [...(extra.fields ?? []), ...labelFields]
    .map(([key, value]) => [clip(key.trim(), FIELD_NAME_LIMIT), clip(value, FIELD_VALUE_LIMIT)] as const)
    .filter(([key, value]) => key !== '' && value.trim() !== '')
    .slice(0, MAX_FIELDS);
  const recipient = labels.recipient?.trim() || target.recipient;
  const event: AlertEvent = alert.status;
  return {
    subscription: target.subscription,
    ...(recipient ? { recipient } : {}),
    transfer: 'ongoing',
    dedupKey: alert.fingerprint,
    event,
    notificationKey: `${alert.fingerprint}|${alert.status}|${alert.startsAt}`,
    // the relay's own rules once more: what a sender can put here is never more than the alert API takes
    message: parseInput(alertMessageSchema, {
      ...(name ? { title: clip(name, TITLE_LIMIT) } : {}),
      text,
      severity: severityOf(labels.severity),
      ...(fields.length > 0 ? { fields: Object.fromEntries(fields) } : {}),
      ...linkOf(alert.generatorURL),
    }),
  };
}

const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'critical',
  crit: 'critical',
  page: 'critical',
  fatal: 'critical',
  error: 'error',
  err: 'error',
  high: 'error',
  warning: 'warning',
  warn: 'warning',
  medium: 'warning',
  info: 'info',
  informational: 'info',
  notice: 'info',
  low: 'info',
  none: 'info',
};

/** `labels.severity`, with anything unknown (or none) as `warning`: an alert is worth a look. */
export function severityOf(label: string | undefined): Severity {
  return SEVERITY_WORDS[label?.trim().toLowerCase() ?? ''] ?? 'warning';
}

/** The link, when it is an http(s) URL the message can carry; anything else is left out. */
function linkOf(url: string | undefined): { link?: string } {
  if (!url || url.length > LINK_LIMIT) return {};
  const parsed = URL.canParse(url) ? new URL(url) : null;
  return parsed && (parsed.protocol === 'https:' || parsed.protocol === 'http:') ? { link: url } : {};
}

/** `text` cut to `limit` characters with an ellipsis, never inside a surrogate pair. */
export function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = limit - 1;
  if (/[\ud800-\udbff]/.test(text[end - 1] ?? '')) end -= 1;
  return `${text.slice(0, end)}…`;
}
