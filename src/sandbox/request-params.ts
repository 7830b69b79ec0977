import type { Request } from 'express';

export interface ParsedApiRequest {
  /** Query parameters overlaid with body parameters, without `token`. */
  params: Record<string, unknown>;
  token: string | null;
  basicAuth: { user: string; password: string } | null;
  /** Set when the body could not be read; Slack answers such calls with this error. */
  bodyError: 'invalid_json' | 'invalid_form_data' | null;
}

/**
 * Reads a Web API request the way Slack does: parameters from the query string
 * and from a form, multipart or JSON body; the token from `Authorization:
 * Bearer`, else from a `token` parameter. Expects the raw body as a Buffer
 * (express.raw), so that malformed bodies become Slack errors, not HTTP 400s.
 */
export async function parseApiRequest(req: Request): Promise<ParsedApiRequest> {
  const params: Record<string, unknown> = Object.fromEntries(new URL(req.originalUrl, 'http://sandbox').searchParams);
  let bodyError: ParsedApiRequest['bodyError'] = null;
  const body = Buffer.isBuffer(req.body) ? req.body : null;
  if (body && body.length > 0) {
    const parsed = await parseBody(body, req.get('content-type') ?? '');
    if ('error' in parsed) bodyError = parsed.error;
    else Object.assign(params, parsed.params);
  }

  const { bearer, basicAuth } = readAuthorization(req.get('authorization'));
  const tokenParam = typeof params.token === 'string' && params.token !== '' ? params.token : null;
  delete params.token;
  return { params, token: bearer ?? tokenParam, basicAuth, bodyError };
}

type BodyResult = { params: Record<string, unknown> } | { error: 'invalid_json' | 'invalid_form_data' };

async function parseBody(body: Buffer, contentType: string): Promise<BodyResult> {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json') {
    try {
      const value: unknown = JSON.parse(body.toString('utf8'));
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        return { params: value as Record<string, unknown> };
      }
    } catch {
      // fall through to the error
    }
    return { error: 'invalid_json' };
  }
  if (type === 'multipart/form-data') {
    try {
      // Node's fetch Response knows how to read multipart bodies; files are recorded by name only.
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
      const params: Record<string, unknown> = {};
      form.forEach((value, key) => {
        params[key] = typeof value === 'string' ? value : `[file ${value.name}]`;
      });
      return { params };
    } catch {
      return { error: 'invalid_form_data' };
    }
  }
  // Form-encoded, or no content type at all (curl -d sends form bodies).
  return { params: Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
}

function readAuthorization(header: string | undefined): {
  bearer: string | null;
  basicAuth: ParsedApiRequest['basicAuth'];
} {
  const match = /^(\w+)\s+(.+)$/.exec(header?.trim() ?? '');
  const scheme = match?.[1]?.toLowerCase();
  const value = match?.[2]?.trim() ?? '';
  if (scheme === 'bearer') return { bearer: value, basicAuth: null };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      return { bearer: null, basicAuth: { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) } };
    }
  }
  return { bearer: null, basicAuth: null };
}
