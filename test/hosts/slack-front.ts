import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A transparent HTTP front for the Slack sandbox: the relay's workers call it (it is
 * `SLACK_API_URL`), it forwards every request unchanged to the sandbox and the answer back, and it
 * notes who asked what: the caller's address (which worker host), the method, the alert markers in
 * a `chat.postMessage` body, and whether the call is still in flight. The sandbox has no notion of
 * which client called it; the many-hosts test needs that to SIGKILL a worker while it is posting
 * and to see which hosts delivered what. A caller that hangs up (a killed worker) makes the front
 * abort its upstream request, so the sandbox sees the hang-up as it would have directly.
 */

export interface FrontCall {
  seq: number;
  /** the caller's IPv4 address: the worker host */
  from: string;
  /** the caller's port (to match a process's sockets, see localPortsTo) */
  fromPort: number;
  /** e.g. `chat.postMessage` */
  method: string;
  /** alert numbers found in the request body by `markerPattern` */
  markers: number[];
  startedAt: number;
  /** null while in flight */
  endedAt: number | null;
  /** the sandbox's status (set when its answer starts); 0 while unanswered; -1 if the caller hung up before any answer, -2 if the sandbox could not be reached */
  status: number;
  /** why -1 / -2 */
  error?: string;
}

export interface SlackFront {
  url: string;
  apiUrl: string;
  calls: FrontCall[];
  inFlight(): FrontCall[];
  close(): Promise<void>;
}

/**
 * Besides forwarding `/api/*` (and anything else) to the sandbox, the front answers its own
 * `GET /_front/calls?after=<seq>` (the calls after that one), `GET /_front/inflight` and
 * `GET /_front/stats`, for a test in another process.
 */
export async function startSlackFront(options: { host: string; target: string; markerPattern: RegExp }): Promise<SlackFront> {
  const target = new URL(options.target);
  // a fresh upstream connection per call: no keep-alive race with the sandbox's idle timeout
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const calls: FrontCall[] = [];
  const pending = new Set<FrontCall>();
  let seq = 0;

  const control = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://front');
    if (req.method !== 'GET' || !url.pathname.startsWith('/_front/')) return false;
    const json = (value: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === '/_front/calls') {
      const after = Number(url.searchParams.get('after') ?? 0);
      json(calls.filter((call) => call.seq > after));
    } else if (url.pathname === '/_front/inflight') {
      json([...pending]);
    } else if (url.pathname === '/_front/stats') {
      json({
        calls: calls.length,
        inFlight: pending.size,
        posted: calls.filter((call) => call.method === 'chat.postMessage' && call.status === 200).length,
        hungUp: calls.filter((call) => call.status === -1).length,
        unreachable: calls.filter((call) => call.status === -2).length,
      });
    } else {
      res.writeHead(404).end();
    }
    return true;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (control(req, res)) return;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = /^\/api\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? req.url ?? '';
      const markers =
        method === 'chat.postMessage'
          ? [...new Set([...decodeBody(body).matchAll(new RegExp(options.markerPattern.source, 'g'))].map((m) => Number(m[1])))]
          : [];
      const call: FrontCall = {
        seq: ++seq,
        from: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        fromPort: req.socket.remotePort ?? 0,
        method,
        markers,
        startedAt: Date.now(),
        endedAt: null,
        status: 0,
      };
      calls.push(call);
      pending.add(call);
      const finish = (status: number, error?: string) => {
        if (call.endedAt !== null) return;
        call.endedAt = Date.now();
        call.status = status;
        if (error) call.error = error;
        pending.delete(call);
      };
      const upstream = request(
        {
          host: target.hostname,
          port: Number(target.port),
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
          agent,
        },
        (answer) => {
          call.status = answer.statusCode ?? 502;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => finish(answer.statusCode ?? 502));
        },
      );
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (call.endedAt !== null) return; // our own destroy() after a hang-up
        finish(-2, error.code ?? error.message);
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      // the caller died (or gave up): the sandbox must see the hang-up too
      res.on('close', () => {
        if (call.endedAt === null) {
          // answered already (status set): the sandbox did carry it out; else it never will
          finish(call.status || -1, 'caller hung up');
          upstream.destroy();
        }
      });
      upstream.end(body);
    });
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  return {
    url,
    apiUrl: `${url}/api/`,
    calls,
    inFlight: () => [...pending],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/** A Web API body as text: form fields decoded, JSON as it is. */
function decodeBody(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
