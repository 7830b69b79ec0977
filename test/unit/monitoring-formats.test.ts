import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { parseAlertmanagerBody } from '../../src/http/formats/alertmanager.js';
import { parseGrafanaBody } from '../../src/http/formats/grafana.js';
import { clip, severityOf } from '../../src/http/formats/monitoring-alert.js';

/** Alertmanager (v4) and Grafana (v1) bodies into the relay's alert inputs (docs/contract.md §6.4). */

const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', name), 'utf8'));
const target = { subscription: 'ops' };

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return { status: error.status, code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('Alertmanager webhook payload v4', () => {
  it('maps a captured firing alert: fingerprint as dedupKey, alertname as title, summary as text, labels as fields', () => {
    const body = fixture('alertmanager/captured-firing.json');
    const [input, ...rest] = parseAlertmanagerBody(body, target);
    const alert = body.alerts[0];
    expect(rest).toEqual([]);
    expect(input).toMatchObject({
      subscription: 'ops',
      transfer: 'ongoing',
      dedupKey: alert.fingerprint,
      event: 'firing',
      notificationKey: `${alert.fingerprint}|firing|${alert.startsAt}`,
      message: { title: alert.labels.alertname, text: alert.annotations.summary, link: alert.generatorURL },
    });
    // every label but alertname and severity, in the payload's order
    const expected = Object.entries(alert.labels).filter(([k]) => k !== 'alertname' && k !== 'severity');
    expect(Object.entries(input!.message.fields ?? {})).toEqual(expected.slice(0, 10));
  });

  it('keeps the fingerprint and startsAt from firing to resolved: the same key, another notification', () => {
    const [firing] = parseAlertmanagerBody(fixture('alertmanager/captured-firing.json'), target);
    const [resolved] = parseAlertmanagerBody(fixture('alertmanager/captured-resolved.json'), target);
    expect(resolved!.dedupKey).toBe(firing!.dedupKey);
    expect(resolved!.event).toBe('resolved');
    expect(resolved!.notificationKey).not.toBe(firing!.notificationKey);
  });

  it('a group: one input per alert, in order; text falls back from summary to description to the name', () => {
    const body = fixture('alertmanager/firing-group.json');
    const inputs = parseAlertmanagerBody(body, target);
    expect(inputs.map((i) => i.dedupKey)).toEqual(body.alerts.map((a: { fingerprint: string }) => a.fingerprint));
    const texts = body.alerts.map((a: { annotations: Record<string, string>; labels: Record<string, string> }) =>
      a.annotations.summary ?? a.annotations.description ?? a.labels.alertname,
    );
    expect(inputs.map((i) => i.message.text)).toEqual(texts);
    expect(inputs.map((i) => i.message.severity)).toEqual(body.alerts.map((a: { labels: { severity: string } }) => a.labels.severity));
  });

  it('mixed firing and resolved alerts in one notification keep their own status', () => {
    const body = fixture('alertmanager/mixed-firing-resolved.json');
    expect(parseAlertmanagerBody(body, target).map((i) => i.event)).toEqual(body.alerts.map((a: { status: string }) => a.status));
  });

  it('severity: the known words, anything else (or none) as warning', () => {
    expect(['critical', 'PAGE', 'error', 'warning', 'warn', 'info', 'none', 'P1', '', undefined].map(severityOf)).toEqual([
      'critical', 'critical', 'error', 'warning', 'warning', 'info', 'info', 'warning', 'warning', 'warning',
    ]);
  });

  it('cuts long remote text to the relay limits instead of refusing it, and drops a link that is not http(s)', () => {
    const labels: Record<string, string> = { alertname: 'x'.repeat(400), severity: 'critical' };
    for (let i = 0; i < 15; i += 1) labels[`label_${i}`] = 'v'.repeat(900);
    const [input] = parseAlertmanagerBody(
      {
        version: '4',
        alerts: [{ status: 'firing', labels, annotations: { summary: 's'.repeat(9000) }, startsAt: '2026-12-01T00:00:00Z', fingerprint: 'abc', generatorURL: 'javascript:alert(1)' }],
      },
      target,
    );
    expect(input!.message.title).toHaveLength(150);
    expect(input!.message.text).toHaveLength(4000);
    expect(input!.message.text.endsWith('…')).toBe(true);
    expect(Object.keys(input!.message.fields!)).toHaveLength(10);
    expect(Object.values(input!.message.fields!).every((v) => v.length === 500)).toBe(true);
    expect(input!.message.link).toBeUndefined();
  });

  it('a recipient label names the member; else the target (query) does; else nothing (the subscription decides)', () => {
    const alert = { status: 'firing', labels: { alertname: 'A', recipient: 'W0CAROL' }, startsAt: 's', fingerprint: 'f' };
    expect(parseAlertmanagerBody({ version: '4', alerts: [alert] }, { subscription: 'ops', recipient: 'U0BOB' })[0]!.recipient).toBe('W0CAROL');
    expect(parseAlertmanagerBody({ version: '4', alerts: [{ ...alert, labels: { alertname: 'A' } }] }, { subscription: 'ops', recipient: 'U0BOB' })[0]!.recipient).toBe('U0BOB');
    expect(parseAlertmanagerBody({ version: '4', alerts: [{ ...alert, labels: { alertname: 'A' } }] }, target)[0]!.recipient).toBeUndefined();
    expect(parseAlertmanagerBody({ version: '4', alerts: [alert] }, target)[0]!.message.fields).toBeUndefined();
  });

  it.each([
    ['another version', { ...fixture('alertmanager/firing-single.json'), version: '3' }, /version/],
    ['no alerts', { version: '4' }, /alerts/],
    ['empty alerts', { version: '4', alerts: [] }, /at least one alert/],
    ['10,000 alerts', { version: '4', alerts: Array.from({ length: 10_000 }, () => ({})) }, /at most 1,000 alerts/],
    ['a label that is not a string', { version: '4', alerts: [{ status: 'firing', labels: { a: 1 }, startsAt: 's', fingerprint: 'f' }] }, /alerts\[0\]/],
    ['an unknown status', { version: '4', alerts: [{ status: 'pending', labels: {}, startsAt: 's', fingerprint: 'f' }] }, /alerts\[0\]/],
    ['no fingerprint', { version: '4', alerts: [{ status: 'firing', labels: {}, startsAt: 's' }] }, /alerts\[0\]/],
    ['a NUL in a label', { version: '4', alerts: [{ status: 'firing', labels: { a: 'x\u0000' }, startsAt: 's', fingerprint: 'f' }] }, /alerts\[0\]/],
    ['not an object', 'alerts', /./],
  ])('refuses %s: 400 invalid_request saying where', (_name, body, message) => {
    expect(refusal(() => parseAlertmanagerBody(body, target))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(message) });
  });
});

describe('Grafana webhook contact point v1', () => {
  it("maps the documentation's example: valueString in the text, and two alerts", () => {
    const body = fixture('grafana/firing-docs-valuestring.json');
    const inputs = parseGrafanaBody(body, target);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toMatchObject({
      dedupKey: 'c6eadffa33fcdf37',
      event: 'firing',
      message: {
        title: 'High memory usage',
        text: `This alert was triggered for zone us-1\nValue: ${body.alerts[0].valueString}`,
        severity: 'warning',
        fields: { team: 'blue', zone: 'us-1' },
        link: 'https://play.grafana.org/alerting/1afz29v7z/edit',
      },
    });
  });

  it('dashboard and panel URLs come first among the fields; resolved alerts resolve', () => {
    const body = fixture('grafana/mixed-firing-resolved.json');
    const inputs = parseGrafanaBody(body, target);
    expect(inputs.map((i) => i.event)).toEqual(body.alerts.map((a: { status: string }) => a.status));
    const first = body.alerts[0];
    if (first.dashboardURL) expect(inputs[0]!.message.fields!.dashboard).toBe(first.dashboardURL);
    if (first.panelURL) expect(inputs[0]!.message.fields!.panel).toBe(first.panelURL);
    expect(Object.keys(inputs[0]!.message.fields!).slice(0, 2)).toEqual(['dashboard', 'panel'].filter((k) => first[`${k}URL`]));
    const resolved = parseGrafanaBody(fixture('grafana/resolved.json'), target);
    expect(resolved.map((i) => i.event)).toEqual(['resolved', 'resolved']);
    expect(resolved.map((i) => i.dedupKey)).toEqual(parseGrafanaBody(fixture('grafana/firing-docs.json'), target).map((i) => i.dedupKey));
  });

  it('refuses an Alertmanager body (version 4) and a Grafana body without alerts', () => {
    expect(refusal(() => parseGrafanaBody(fixture('alertmanager/firing-single.json'), target))).toMatchObject({ status: 400, message: expect.stringMatching(/version/) });
    expect(refusal(() => parseGrafanaBody({ version: '1', status: 'firing' }, target))).toMatchObject({ status: 400, message: expect.stringMatching(/alerts/) });
  });
});

describe('clip', () => {
  it('never cuts a surrogate pair in half', () => {
    const text = `${'a'.repeat(8)}😀😀`;
    for (let limit = 2; limit < text.length; limit += 1) {
      const cut = clip(text, limit);
      expect(cut.length).toBeLessThanOrEqual(limit);
      expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    }
  });
});
