import { z } from 'zod';
import { storableText, type AlertInput } from '../../domain.js';
import { parseInput } from '../../lib/validation.js';
import { alertsArray, FIELD_VALUE_LIMIT, mapAlerts, monitoringAlertSchema, type NotificationTarget } from './monitoring-alert.js';

/**
 * Grafana's webhook contact point body, version 1 (docs/contract.md §6.4): Alertmanager's shape
 * plus, per alert, `valueString` (the query's values, added to the text) and `dashboardURL` /
 * `panelURL` (shown as fields, ahead of the labels).
 */
const grafanaBody = z.object({
  version: z.literal('1', { error: 'must be "1" (Grafana webhook contact point version 1)' }),
  alerts: alertsArray,
});

const grafanaAlert = monitoringAlertSchema.extend({
  valueString: storableText().max(100_000).optional(),
  dashboardURL: storableText().max(100_000).optional(),
  panelURL: storableText().max(100_000).optional(),
});

export function parseGrafanaBody(body: unknown, target: NotificationTarget): AlertInput[] {
  const { alerts } = parseInput(grafanaBody, body);
  return mapAlerts(alerts, grafanaAlert, target, (alert) => ({
    text: alert.valueString?.trim() ? `Value: ${alert.valueString.trim()}` : undefined,
    // a URL too long for a field would be cut, and broken: it is left out
    fields: (
      [
        ['dashboard', alert.dashboardURL ?? ''],
        ['panel', alert.panelURL ?? ''],
      ] as [string, string][]
    ).filter(([, url]) => url.length <= FIELD_VALUE_LIMIT),
  }));
}
