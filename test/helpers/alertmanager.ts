import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './redis-server.js';

/**
 * A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, 0.25) of the test's own, on
 * free loopback ports, in a temp folder, with one route to one `webhook_configs` receiver that
 * points at the relay. For end-to-end tests of the relay's Alertmanager intake: what reaches the
 * relay is exactly what Alertmanager sends (version "4" payloads, its grouping, repeats, resolves,
 * retries of 5xx answers and its User-Agent / Authorization headers).
 *
 * Timing with the defaults below (group_wait 0s, group_interval 200ms), measured with Debian's
 * 0.25.0: a new alert is notified ~5-15 ms after `postAlerts`; a resolve reaches the webhook at
 * the next group_interval tick (0-200 ms after `resolveAlerts`); a still-firing alert is
 * re-notified at the first tick after `repeatInterval` has passed since the last notification
 * (repeatInterval + up to one group_interval: '1s' gives ~1.0-1.2 s).
 *
 * Retries: a 5xx answer (or a connection error) is retried with exponential back-off (measured
 * ~0.45 s, ~1.1 s, ~0.8 s... apart) within one flush, whose deadline is max(group_interval, 10 s),
 * and the next flush starts again; any other non-2xx (429 and 400 included) is not retried
 * within the flush, but as nothing was logged as sent, every later group_interval tick sends the
 * group again, until a 2xx.
 *
 * Alertmanager does not dedupe across instances unless they are clustered, and even clustered it
 * is best effort (at-least-once): `startAlertmanagerPair()` starts two instances fed the same
 * alerts, unclustered by default, which both notify: the worst case for the relay's own dedup.
 */

export type AlertLabels = Record<string, string>;

/** One alert for `POST /api/v2/alerts` (Alertmanager's `postableAlert`). */
export interface PostableAlert {
  labels: AlertLabels;
  annotations?: AlertLabels;
  /** RFC 3339; Alertmanager uses the receive time when omitted */
  startsAt?: string | Date;
  /** RFC 3339; when omitted Alertmanager sets now + resolve_timeout; in the past = resolved */
  endsAt?: string | Date;
  generatorURL?: string;
}

/** One alert as `GET /api/v2/alerts` returns it (the fields tests look at). */
export interface GettableAlert {
  labels: AlertLabels;
  annotations: AlertLabels;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  fingerprint: string;
  generatorURL?: string;
  receivers: { name: string }[];
  status: { state: 'unprocessed' | 'active' | 'suppressed'; silencedBy: string[]; inhibitedBy: string[] };
}

export interface AlertmanagerClusterOptions {
  /** gossip port of this instance (127.0.0.1); a free one when omitted */
  listenPort?: number;
  /** `host:port` of other instances' gossip ports (`--cluster.peer`, repeated) */
  peers?: string[];
  /**
   * `--cluster.peer-timeout` (default here 100ms; Alertmanager's own is 15s): the n-th member in
   * name order waits n x this before its dedup check. Keep it <= group_interval: with a longer
   * peer-timeout, flushes queue up behind the wait and the second member can send a stale
   * "firing" after the first member's "resolved", then a second "resolved" (measured with
   * group_interval 200ms / peer-timeout 1s).
   */
  peerTimeout?: string;
  /** `--cluster.gossip-interval` (default here 50ms; Alertmanager's own is 200ms). Settling takes ~4 x 10 x this. */
  gossipInterval?: string;
  /** `--cluster.settle-timeout` (default here 5s; Alertmanager's own is 1m) */
  settleTimeout?: string;
  /** `--cluster.pushpull-interval` (default here 1s; Alertmanager's own is 1m) */
  pushPullInterval?: string;
  /** how many members (including this one) to wait for before the start resolves; default 1 + peers.length */
  expectMembers?: number;
}

export interface AlertmanagerOptions {
  /** the relay's webhook endpoint, e.g. http://127.0.0.1:PORT/v1/alertmanager/webhook */
  webhookUrl: string;
  /** sent as `Authorization: <authorizationType> <bearerToken>`; omit for no Authorization header */
  bearerToken?: string;
  /** `http_config.authorization.type` (default 'Bearer') */
  authorizationType?: string;
  /**
   * Put the token in a file and use `authorization.credentials_file` instead of `credentials`
   * (0.25 supports it; `url_file` for the webhook URL only exists from 0.26).
   */
  credentialsFile?: boolean;
  /** route `group_wait` (default '0s': the first notification of a new group goes out at once) */
  groupWait?: string;
  /**
   * route `group_interval` (default '200ms'; must not be zero; `ms` works, fractions like '1.5s'
   * do not). Resolves, alerts added to a notified group, repeats and re-sends after a 4xx all wait
   * for its ticks.
   */
  groupInterval?: string;
  /** route `repeat_interval` (default '4h', i.e. no repeats in a test) */
  repeatInterval?: string;
  /** route `group_by` (default ['alertname']; ['...'] groups by all labels: one group per alert) */
  groupBy?: string[];
  /** global `resolve_timeout`: a posted alert without endsAt resolves by itself after this (default '5m') */
  resolveTimeout?: string;
  /** webhook `max_alerts` (default 0 = no limit); above it the payload carries `truncatedAlerts` */
  maxAlerts?: number;
  /** webhook `send_resolved` (default true) */
  sendResolved?: boolean;
  /** receiver name: it is the payload's `receiver` (default 'slack-relay') */
  receiverName?: string;
  /** `--web.external-url`: the payload's `externalURL` (default http://127.0.0.1:PORT) */
  externalUrl?: string;
  /** `--log.level` (default 'debug': flushes and notify results show in output()) */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** cluster (HA) mode; omitted = `--cluster.listen-address=` (no gossip port, no peers) */
  cluster?: AlertmanagerClusterOptions;
  /** a whole alertmanager.yml instead of the generated one (webhook options above then unused) */
  configYaml?: string;
  /** more command-line flags */
  extraArgs?: string[];
  /** use this folder (created if missing) instead of a new temp folder */
  dir?: string;
  /** how long to wait for `/-/ready` (default 10 s) */
  startTimeoutMs?: number;
}

export interface TestAlertmanager {
  /** http://127.0.0.1:PORT (API, UI, /-/ready) */
  url: string;
  port: number;
  /** the gossip port when clustered, else null */
  clusterPort: number | null;
  /** temp folder: alertmanager.yml, data/ (nflog, silences), token file */
  dir: string;
  configPath: string;
  /** the generated (or given) configuration */
  configYaml: string;
  /** POST /api/v2/alerts; rejects unless Alertmanager answers 200 */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  /**
   * Posts the same alerts again with `endsAt` set (default: now, which is already past when
   * Alertmanager handles it), so they are resolved; the resolve is notified at the next
   * group_interval tick. Keep the labels identical: they are the alert's identity (fingerprint).
   */
  resolveAlerts(alerts: PostableAlert[], endsAt?: Date): Promise<void>;
  /** GET /api/v2/alerts */
  getAlerts(): Promise<GettableAlert[]>;
  /** GET /api/v2/status (cluster.status is 'ready', 'settling' or 'disabled') */
  status(): Promise<{ cluster: { status: string; name?: string; peers?: { name: string; address: string }[] } } & Record<string, unknown>>;
  /** stdout and stderr so far (logfmt) */
  output(): string;
  /** true while the process runs */
  alive(): boolean;
  /** SIGTERM (Alertmanager snapshots nflog and silences), SIGKILL after 5 s; idempotent */
  stop(): Promise<void>;
  /** SIGKILL: a crash, no snapshot; idempotent */
  kill(): Promise<void>;
  /** start again on the same ports and folder (after stop or kill): the notification log survives a graceful stop */
  restart(): Promise<void>;
  /** stop and delete the folder */
  remove(): Promise<void>;
}

export interface AlertmanagerPair {
  instances: [TestAlertmanager, TestAlertmanager];
  clustered: boolean;
  /** posts to both instances (as Prometheus does: it sends every alert to every Alertmanager) */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  resolveAlerts(alerts: PostableAlert[], endsAt?: Date): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
}

const BINARY_NAMES = ['prometheus-alertmanager', 'alertmanager'];

/** The Alertmanager binary: $ALERTMANAGER_BIN, else the first of prometheus-alertmanager / alertmanager on PATH or in /usr/bin. */
export function alertmanagerBinary(): string | null {
  const fromEnv = process.env.ALERTMANAGER_BIN;
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const name of BINARY_NAMES) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

/** Whether an Alertmanager binary is installed (for `describe.skipIf(!alertmanagerAvailable())`). */
export function alertmanagerAvailable(): boolean {
  return alertmanagerBinary() !== null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Alertmanager's alert fingerprint: FNV-1a 64 over the label names in byte order, each name and
 * value followed by a 0xff byte, as 16 hex digits. A pure function of the label set, so the same
 * on every instance (prometheus/common model/signature.go, Fingerprint.String()).
 */
export function alertFingerprint(labels: AlertLabels): string {
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  let hash = 0xcbf29ce484222325n;
  const names = Object.keys(labels).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const bytes = Buffer.concat([Buffer.from(name), Buffer.from([0xff]), Buffer.from(labels[name] ?? ''), Buffer.from([0xff])]);
    for (const byte of bytes) {
      hash ^= BigInt(byte);
      hash = (hash * prime) & mask;
    }
  }
  return hash.toString(16).padStart(16, '0');
}

function yamlString(value: string): string {
  return JSON.stringify(value); // a JSON string is a valid YAML double-quoted scalar
}

/** The alertmanager.yml that startAlertmanager() writes (exported for tests that want to see or tweak it). */
export function alertmanagerConfigYaml(options: AlertmanagerOptions & { credentialsPath?: string }): string {
  const groupBy = options.groupBy ?? ['alertname'];
  const lines = [
    'global:',
    `  resolve_timeout: ${options.resolveTimeout ?? '5m'}`,
    'route:',
    `  receiver: ${yamlString(options.receiverName ?? 'slack-relay')}`,
    `  group_by: [${groupBy.map(yamlString).join(', ')}]`,
    `  group_wait: ${options.groupWait ?? '0s'}`,
    `  group_interval: ${options.groupInterval ?? '200ms'}`,
    `  repeat_interval: ${options.repeatInterval ?? '4h'}`,
    'receivers:',
    `  - name: ${yamlString(options.receiverName ?? 'slack-relay')}`,
    '    webhook_configs:',
    `      - url: ${yamlString(options.webhookUrl)}`,
    `        send_resolved: ${options.sendResolved ?? true}`,
    `        max_alerts: ${options.maxAlerts ?? 0}`,
  ];
  if (options.bearerToken !== undefined) {
    lines.push('        http_config:', '          authorization:', `            type: ${yamlString(options.authorizationType ?? 'Bearer')}`);
    if (options.credentialsPath) lines.push(`            credentials_file: ${yamlString(options.credentialsPath)}`);
    else lines.push(`            credentials: ${yamlString(options.bearerToken)}`);
  }
  return lines.join('\n') + '\n';
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // never leave an Alertmanager behind when the test process ends without stop()
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function toPayload(alert: PostableAlert, endsAt?: Date): Record<string, unknown> {
  const iso = (v: string | Date | undefined) => (v instanceof Date ? v.toISOString() : v);
  const out: Record<string, unknown> = { labels: alert.labels };
  if (alert.annotations) out.annotations = alert.annotations;
  if (alert.startsAt !== undefined) out.startsAt = iso(alert.startsAt);
  const end = endsAt ?? alert.endsAt;
  if (end !== undefined) out.endsAt = iso(end);
  if (alert.generatorURL !== undefined) out.generatorURL = alert.generatorURL;
  return out;
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<TestAlertmanager> {
  const binary = alertmanagerBinary();
  if (!binary) throw new Error('no Alertmanager binary (apt-get install prometheus-alertmanager, or set ALERTMANAGER_BIN)');
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'relay-alertmanager-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configPath = join(dir, 'alertmanager.yml');
  let credentialsPath: string | undefined;
  if (options.credentialsFile && options.bearerToken !== undefined) {
    credentialsPath = join(dir, 'webhook-token');
    writeFileSync(credentialsPath, options.bearerToken, { mode: 0o600 });
  }
  const configYaml = options.configYaml ?? alertmanagerConfigYaml({ ...options, credentialsPath });
  writeFileSync(configPath, configYaml);

  let port = await freePort();
  let clusterPort: number | null = options.cluster ? (options.cluster.listenPort ?? (await freePort())) : null;
  let child: ChildProcess | null = null;
  let output = '';

  const args = (): string[] => {
    const a = [
      `--config.file=${configPath}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${options.externalUrl ?? `http://127.0.0.1:${port}`}`,
      `--log.level=${options.logLevel ?? 'debug'}`,
    ];
    const c = options.cluster;
    if (c && clusterPort !== null) {
      a.push(
        `--cluster.listen-address=127.0.0.1:${clusterPort}`,
        `--cluster.advertise-address=127.0.0.1:${clusterPort}`,
        `--cluster.peer-timeout=${c.peerTimeout ?? '100ms'}`,
        `--cluster.gossip-interval=${c.gossipInterval ?? '50ms'}`,
        `--cluster.settle-timeout=${c.settleTimeout ?? '5s'}`,
        `--cluster.pushpull-interval=${c.pushPullInterval ?? '1s'}`,
        `--cluster.probe-interval=200ms`,
        `--cluster.reconnect-interval=1s`,
      );
      for (const peer of c.peers ?? []) a.push(`--cluster.peer=${peer}`);
    } else {
      a.push('--cluster.listen-address=');
    }
    return [...a, ...(options.extraArgs ?? [])];
  };

  const url = () => `http://127.0.0.1:${port}`;

  const status = async () => {
    const res = await fetch(`${url()}/api/v2/status`);
    if (!res.ok) throw new Error(`GET /api/v2/status: ${res.status}`);
    return (await res.json()) as Awaited<ReturnType<TestAlertmanager['status']>>;
  };

  const launch = async (): Promise<void> => {
    const running = spawn(binary, args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = running;
    track(running);
    running.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    running.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    while (Date.now() < deadline) {
      if (running.exitCode !== null || running.signalCode !== null) {
        throw new Error(`alertmanager exited (${running.exitCode ?? running.signalCode}) before it was ready:\n${output}`);
      }
      try {
        const res = await fetch(`${url()}/-/ready`);
        if (res.ok) {
          if (!options.cluster) return;
          // /-/ready answers 200 at once in 0.25, even while gossip settles: wait for the members and 'ready'
          const expect = options.cluster.expectMembers ?? 1 + (options.cluster.peers?.length ?? 0);
          const s = await status();
          if (s.cluster.status === 'ready' && (s.cluster.peers?.length ?? 0) >= expect) return;
        }
      } catch {
        // not listening yet
      }
      await sleep(25);
    }
    running.kill('SIGKILL');
    throw new Error(`alertmanager did not become ready on ${url()} within ${options.startTimeoutMs ?? 10_000} ms:\n${output}`);
  };

  const waitExit = (running: ChildProcess, signal: NodeJS.Signals, graceMs: number) =>
    new Promise<void>((resolve) => {
      if (running.exitCode !== null || running.signalCode !== null) return resolve();
      const timer = setTimeout(() => running.kill('SIGKILL'), graceMs);
      running.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      running.kill(signal);
    });

  const stop = async () => {
    const running = child;
    child = null;
    if (running) await waitExit(running, 'SIGTERM', 5_000);
  };
  const kill = async () => {
    const running = child;
    child = null;
    if (running) await waitExit(running, 'SIGKILL', 5_000);
  };

  // The free port may be taken between freePort() and the bind: try fresh ports a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      await kill();
      const portClash = /address already in use/i.test(output);
      if (!portClash || attempt >= 3 || options.cluster?.listenPort !== undefined) throw err;
      output = '';
      port = await freePort();
      if (clusterPort !== null) clusterPort = await freePort();
    }
  }

  const post = async (alerts: PostableAlert[], endsAt?: Date) => {
    const res = await fetch(`${url()}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((a) => toPayload(a, endsAt))),
    });
    if (res.status !== 200) throw new Error(`POST /api/v2/alerts: ${res.status} ${await res.text()}`);
  };

  const handle: TestAlertmanager = {
    get url() {
      return url();
    },
    get port() {
      return port;
    },
    get clusterPort() {
      return clusterPort;
    },
    dir,
    configPath,
    configYaml,
    postAlerts: (alerts) => post(alerts),
    resolveAlerts: (alerts, endsAt) => post(alerts, endsAt ?? new Date()),
    async getAlerts() {
      const res = await fetch(`${url()}/api/v2/alerts`);
      if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status}`);
      return (await res.json()) as GettableAlert[];
    },
    status,
    output: () => output,
    alive: () => {
      const running = child as ChildProcess | null;
      return running !== null && running.exitCode === null && running.signalCode === null;
    },
    stop,
    kill,
    async restart() {
      await stop();
      await launch();
    },
    async remove() {
      await stop();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/**
 * Two Alertmanagers with the same configuration, each in its own folder, fed the same alerts.
 * Unclustered (default): both notify every group, so the webhook gets every notification twice
 * (a few ms apart). Clustered (`clustered: true`, ~2.6 s to start: gossip must settle): they
 * gossip their notification logs and the second in member order waits `peerTimeout` before its
 * dedup check, so usually one notification arrives, but Alertmanager only promises
 * at-least-once (see AlertmanagerClusterOptions.peerTimeout for a way to get duplicates).
 */
export async function startAlertmanagerPair(
  options: Omit<AlertmanagerOptions, 'cluster' | 'dir'> & {
    clustered?: boolean;
    cluster?: Omit<AlertmanagerClusterOptions, 'listenPort' | 'peers' | 'expectMembers'>;
  },
): Promise<AlertmanagerPair> {
  const { clustered = false, cluster, ...rest } = options;
  let a: TestAlertmanager;
  let b: TestAlertmanager;
  if (!clustered) {
    [a, b] = await Promise.all([startAlertmanager(rest), startAlertmanager(rest)]);
  } else {
    const [portA, portB] = [await freePort(), await freePort()];
    // both list both (as in production), so either can start first; wait until each sees two members
    const peers = [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`];
    [a, b] = await Promise.all([
      startAlertmanager({ ...rest, cluster: { ...cluster, listenPort: portA, peers: [peers[1]!], expectMembers: 2 } }),
      startAlertmanager({ ...rest, cluster: { ...cluster, listenPort: portB, peers: [peers[0]!], expectMembers: 2 } }),
    ]);
  }
  const both = (fn: (am: TestAlertmanager) => Promise<void>) => Promise.all([fn(a), fn(b)]).then(() => undefined);
  return {
    instances: [a, b],
    clustered,
    postAlerts: (alerts) => both((am) => am.postAlerts(alerts)),
    resolveAlerts: (alerts, endsAt) => {
      const end = endsAt ?? new Date();
      return both((am) => am.resolveAlerts(alerts, end));
    },
    stop: () => both((am) => am.stop()),
    remove: () => both((am) => am.remove()),
  };
}
