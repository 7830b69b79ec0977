import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { STATUS_CODES } from 'node:http';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, Headers, request, type Dispatcher } from 'undici';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

/**
 * Where the relay may send a Slack token (docs/contract.md §6.2), in one place:
 * - at save time, a subscription's apiUrl must have an allowed origin (SLACK_API_URL's, or one in
 *   ALLOWED_API_URLS), no userinfo, query or fragment, and https: in production unless listed;
 * - at connect time, every Slack client the relay builds refuses loopback, private, link-local,
 *   CGNAT, unique-local and IPv4-mapped addresses, checked on the address it actually connects to
 *   (so DNS tricks and rebinding cannot reach them); the one exception is a URL that names such an
 *   address literally when an allowed origin names it too (the sandbox at http://127.0.0.1:3100);
 * - redirects are never followed (a 3xx is Slack answering HTTP 3xx), and a response body over 1 MB is refused.
 */

export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** A refusal decided here; the Slack error table turns its `code` into a permanent failure. */
export class EgressError extends Error {
  override name = 'EgressError';
  constructor(
    readonly code: 'egress_refused' | 'response_too_large',
    message: string,
  ) {
    super(message);
  }
}

const PRIVATE_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const PRIVATE_V6 = [
  ['::', 128], ['::1', 128], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const;

function privateAddresses(): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of PRIVATE_V4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of PRIVATE_V6) list.addSubnet(net, prefix, 'ipv6');
  return list;
}

const unbracket = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

export interface EgressPolicyOptions {
  /** every allowed origin (SLACK_API_URL's and ALLOWED_API_URLS) */
  allowedOrigins: string[];
  /** the origins listed in ALLOWED_API_URLS: the only ones that may be http: in production */
  listedOrigins: string[];
  production: boolean;
  maxResponseBytes?: number;
}

/** The part of `fetch` the Slack SDK uses. */
type SdkFetch = (url: string | URL, init?: SdkRequestInit) => Promise<SdkResponse>;
/** What the SDK passes: a POST with a URL-encoded (or JSON) string body; it uploads no files for the relay. */
interface SdkRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | null;
  signal?: AbortSignal;
}
interface SdkResponse {
  ok: boolean;
  status: number;
  statusText: string;
  url: string;
  headers: { get(name: string): string | null; entries(): Iterable<[string, string]> };
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

export class EgressPolicy {
  private readonly allowed: Set<string>;
  private readonly listed: Set<string>;
  private readonly blocked = privateAddresses();
  /** addresses an allowed origin names literally, e.g. the sandbox's 127.0.0.1 */
  private readonly literals = new Set<string>();
  private readonly maxBytes: number;
  private readonly agent: Agent;

  constructor(private readonly options: EgressPolicyOptions) {
    this.allowed = new Set(options.allowedOrigins);
    this.listed = new Set(options.listedOrigins);
    this.maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    for (const origin of options.allowedOrigins) {
      const host = unbracket(new URL(origin).hostname);
      if (isIP(host)) this.literals.add(host);
    }
    this.agent = new Agent({ connect: { lookup: this.lookup } });
  }

  /** A subscription's apiUrl as it is stored (with a trailing slash), or 400 `api_url_not_allowed`. */
  checkApiUrl(raw: string): string {
    const refuse = (why: string) =>
      new AppError('api_url_not_allowed', 400, `apiUrl ${why}. Allowed origins: ${[...this.allowed].join(', ')} (ALLOWED_API_URLS lists more).`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refuse('is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be http(s)');
    if (url.username || url.password || raw.includes('@')) throw refuse('must not carry a user or password');
    if (url.search || url.hash || /[?#]/.test(raw)) throw refuse('must not have a query or fragment');
    if (!this.allowed.has(url.origin)) throw refuse(`has the origin ${url.origin}, which is not allowed`);
    if (this.options.production && url.protocol === 'http:' && !this.listed.has(url.origin)) {
      throw refuse('must be https: in production unless its origin is listed in ALLOWED_API_URLS');
    }
    return url.pathname.endsWith('/') ? url.href : `${url.href}/`;
  }

  /** Whether a stored apiUrl still has an allowed origin (records kept from before the allow-list). */
  allows(apiUrl: string): boolean {
    try {
      return this.allowed.has(new URL(apiUrl).origin);
    } catch {
      return false;
    }
  }

  /**
   * May the relay connect to this address? A private address only when the URL names it literally
   * (`named`) and an allowed origin names it too: a DNS name never reaches one, whatever it resolves to.
   */
  permits(address: string, named = false): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    if (named && this.literals.has(address)) return true;
    return !this.blocked.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The `fetch` every Slack client of the relay uses (WebClient's `fetch` option), on undici's
   * `request`: the answers the SDK reads need no WHATWG streams, and fetch's cost per call was
   * most of the Slack client's. A redirect is answered as it is (the SDK refuses anything but 200).
   */
  readonly fetch: SdkFetch = async (input, init = {}) => {
    const url = new URL(String(input));
    const host = unbracket(url.hostname);
    if (isIP(host) && !this.permits(host, true)) throw this.refused(host);
    if (init.body !== undefined && init.body !== null && typeof init.body !== 'string' && !Buffer.isBuffer(init.body)) {
      throw new TypeError('The relay sends Slack string bodies only.');
    }
    const response = await request(url, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: init.headers,
      body: init.body ?? undefined,
      signal: init.signal,
      dispatcher: this.agent,
    });
    const body = await this.readCapped(response);
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
    }
    return {
      ok: response.statusCode >= 200 && response.statusCode < 300,
      status: response.statusCode,
      statusText: STATUS_CODES[response.statusCode] ?? '',
      url: url.href,
      headers,
      arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
      text: async () => body.toString('utf8'),
      json: async () => JSON.parse(body.toString('utf8')) as unknown,
    };
  };

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** DNS answers are checked where the socket uses them: a name resolving to a private address is refused. */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((entry) => !this.permits(entry.address));
      if (refused) return callback(this.refused(hostname), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };

  private refused(host: string): EgressError {
    return new EgressError('egress_refused', `The relay does not connect to ${host}: a loopback, private or link-local address.`);
  }

  private async readCapped(response: Dispatcher.ResponseData): Promise<Buffer> {
    const declared = Number(response.headers['content-length'] ?? 0);
    const tooLarge = () => new EgressError('response_too_large', `The answer is larger than ${this.maxBytes} bytes.`);
    if (declared > this.maxBytes) {
      response.body.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > this.maxBytes) {
        response.body.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
  }
}

/** The policy of a relay process, from its configuration. */
export function createEgressPolicy(config: Pick<Config, 'egress' | 'env'>): EgressPolicy {
  return new EgressPolicy({ ...config.egress, production: config.env === 'production' });
}
