import { z } from 'zod';
import type { AlertInput } from '../../domain.js';
import { parseInput } from '../../lib/validation.js';
import { alertsArray, mapAlerts, monitoringAlertSchema, type NotificationTarget } from './monitoring-alert.js';

/**
 * Prometheus Alertmanager's webhook body, payload version 4 (docs/contract.md §6.4):
 * `{ version: "4", status, receiver, groupLabels, commonLabels, externalURL, alerts: [...] }`.
 * Only `version` and `alerts` matter; each alert maps as ./monitoring-alert.ts says.
 */
const alertmanagerBody = z.object({
  version: z.literal('4', { error: 'must be "4" (Alertmanager webhook payload version 4)' }),
  alerts: alertsArray,
});

export function parseAlertmanagerBody(body: unknown, target: NotificationTarget): AlertInput[] {
  const { alerts } = parseInput(alertmanagerBody, body);
  return mapAlerts(alerts, monitoringAlertSchema, target);
}
