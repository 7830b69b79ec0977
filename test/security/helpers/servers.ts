import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Small HTTP servers for the security tests: a loopback "internal service" that records every
 * request it gets (it must get none), and a scriptable Slack stand-in whose behaviour is chosen by
 * the first path segment of the subscription's apiUrl (`http://127.0.0.1:<port>/<variant>/`), so one
 * server on the harness's spare (allowed) port can play several hostile Slacks at once.
 */

export interface RecordedRequest {
  method: string;
  url: string;
  host: string;
  /** the local address the request arrived on (127.0.0.1 or ::1) */
  local: string;
  port: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** write the body in pieces without Content-Length (chunked), to test the streaming cap */
  chunked?: boolean;
  /** wait this long before answering */
  delayMs?: number;
}

export interface RecordingServer {
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function send(res: ServerResponse, reply: Reply): Promise<void> {
  if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
  const body = reply.body ?? '';
  const headers = { ...(reply.headers ?? {}) };
  if (reply.chunked) {
    res.writeHead(reply.status ?? 200, headers);
    const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body);
    for (let offset = 0; offset < buffer.length; offset += 64 * 1024) {
      if (res.destroyed) return;
      const ok = res.write(buffer.subarray(offset, offset + 64 * 1024));
      if (!ok) await new Promise((r) => res.once('drain', r));
    }
    res.end();
    return;
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(reply.status ?? 200, headers);
  res.end(body);
}

/**
 * A server on `port` (0 = a free one) that records every request. It listens on 127.0.0.1 and,
 * where the host has it, on ::1 too (same port), so that a connection to either loopback is seen.
 */
export async function startRecordingServer(
  options: { port?: number; reply?: (req: RecordedRequest) => Reply | Promise<Reply> } = {},
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const servers: Server[] = [];
  const make = () =>
    createServer(async (req, res) => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host ?? '',
        local: req.socket.localAddress ?? '',
        port: req.socket.localPort ?? 0,
        headers: req.headers,
        body: await readBody(req),
        at: Date.now(),
      };
      requests.push(recorded);
      try {
        await send(res, options.reply ? await options.reply(recorded) : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true,"internal":"reached"}' });
      } catch {
        res.destroy();
      }
    });
  const v4 = make();
  servers.push(v4);
  const port = await listen(v4, options.port ?? 0, '127.0.0.1');
  const v6 = make();
  try {
    await listen(v6, port, '::1');
    servers.push(v6);
  } catch {
    // no IPv6 loopback here (or the port is taken there): 127.0.0.1 only
  }
  return {
    port,
    requests,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

export interface StandInCall {
  variant: string;
  method: string;
  /** form or JSON parameters the client sent (the token is dropped) */
  params: Record<string, string>;
  at: number;
}

export interface SlackStandIn {
  port: number;
  /** `http://127.0.0.1:<port>/<variant>/` */
  apiUrl(variant: string): string;
  calls: StandInCall[];
  callsTo(variant: string, method?: string): StandInCall[];
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type StandInHandler = (call: StandInCall) => Reply | Promise<Reply>;

/** JSON reply helper. */
export const json = (value: unknown, status = 200): Reply => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(value),
});

/** Slack-like success answers for the methods a delivery uses. */
export function slackLike(call: StandInCall): Reply {
  switch (call.method) {
    case 'auth.test':
      return json({ ok: true, url: 'https://standin.example/', team: 'Stand-in', user: 'relay', team_id: 'T0STANDIN', user_id: 'U0BOT', bot_id: 'B0BOT' });
    case 'conversations.open':
      return json({ ok: true, channel: { id: `D0${(call.params.users ?? 'X').replace(/[^A-Z0-9]/g, '')}` } });
    case 'chat.postMessage':
      return json({ ok: true, channel: call.params.channel ?? 'D0X', ts: `${Math.floor(Date.now() / 1000)}.${String(Date.now() % 1000000).padStart(6, '0')}` });
    case 'users.lookupByEmail':
      return json({ ok: false, error: 'users_not_found' });
    default:
      return json({ ok: false, error: 'unknown_method' });
  }
}

/** A Slack stand-in: `handlers[variant]` answers the calls under `/<variant>/<method>`. */
export async function startSlackStandIn(port: number, handlers: Record<string, StandInHandler>): Promise<SlackStandIn> {
  const calls: StandInCall[] = [];
  const server = await startRecordingServer({
    port,
    reply: async (req) => {
      const url = new URL(req.url, 'http://stand-in');
      const [variant = '', method = ''] = url.pathname.split('/').filter(Boolean);
      const params: Record<string, string> = Object.fromEntries(url.searchParams);
      const type = String(req.headers['content-type'] ?? '');
      if (type.includes('application/json')) {
        try {
          Object.assign(params, JSON.parse(req.body || '{}'));
        } catch {
          // keep what we have
        }
      } else {
        Object.assign(params, Object.fromEntries(new URLSearchParams(req.body)));
      }
      delete params.token;
      const call: StandInCall = { variant, method, params, at: Date.now() };
      calls.push(call);
      const handler = handlers[variant];
      return handler ? handler(call) : json({ ok: false, error: 'no_such_variant' }, 404);
    },
  });
  return {
    port: server.port,
    apiUrl: (variant) => `http://127.0.0.1:${server.port}/${variant}/`,
    calls,
    callsTo: (variant, method) => calls.filter((c) => c.variant === variant && (method === undefined || c.method === method)),
    requests: server.requests,
    close: () => server.close(),
  };
}
