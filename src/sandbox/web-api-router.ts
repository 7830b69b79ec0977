import { STATUS_CODES } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { delayUnlessAbandoned } from './abandonable-delay.js';
import { type ApiMethod, type ApiReply, fail, rateLimited } from './methods/api-method.js';
import { authMethods } from './methods/auth-methods.js';
import { chatMethods } from './methods/chat-methods.js';
import { conversationMethods } from './methods/conversation-methods.js';
import { historyMethods } from './methods/history-methods.js';
import { oauthMethods } from './methods/oauth-methods.js';
import { userMethods } from './methods/user-methods.js';
import { type ParsedApiRequest, parseApiRequest } from './request-params.js';
import type { SandboxState } from './sandbox-state.js';
import type { SandboxCall } from './types.js';

/**
 * The Web API under /api/<method>: records every call, applies injected faults
 * first, then authenticates and dispatches to the method handlers.
 * `closing` aborts pending delays when the sandbox shuts down.
 */
export function createWebApiRouter(state: SandboxState, closing: AbortSignal): Router {
  const methods = new Map<string, ApiMethod>(
    [authMethods, userMethods, conversationMethods, historyMethods, chatMethods, oauthMethods].flatMap((factory) =>
      Object.entries(factory(state)),
    ),
  );

  const handle = async (req: Request, res: Response): Promise<void> => {
    const method = String(req.params.method);
    const parsed = await parseApiRequest(req);
    // Recorded on arrival so that `calls` is in arrival order even when a delay fault holds a call back.
    const call: SandboxCall = { method, token: parsed.token, params: parsed.params, status: 0, response: null, at: Date.now() };
    state.calls.push(call);

    const reply = await answer(method, parsed, res);
    if (!reply) {
      // nginx's "client closed request": the caller gave up during a delay (not carried out) or before a late answer (carried out)
      call.status = 499;
      state.log(`${method} → the client hung up before the answer`);
      state.waiters.notify();
      return;
    }
    call.status = reply.status;
    call.response = reply.body;
    state.log(`${method} → ${reply.status}${describeError(reply)}`);
    state.waiters.notify(); // a waitFor probe may be counting answered calls
    send(res, reply);
  };

  /** Returns null when the client hung up during a delay (not carried out) or before a late answer (carried out). */
  const answer = async (method: string, parsed: ParsedApiRequest, res: Response): Promise<ApiReply | null> => {
    const fault = state.faults.take(method);
    switch (fault?.kind) {
      case 'http':
        return { status: fault.status, body: STATUS_CODES[fault.status] ?? 'Error', headers: { 'Content-Type': 'text/plain' } };
      case 'error':
        return fail(fault.error);
      case 'ratelimit':
        return rateLimited(fault.retryAfter);
      case 'delay':
        if (!(await delayUnlessAbandoned(fault.ms, res, closing))) return null;
        break; // then answer normally
    }

    const reply = await execute(method, parsed);
    if (fault?.kind === 'late_answer' && !(await delayUnlessAbandoned(fault.ms, res, closing))) return null;
    return reply;
  };

  const execute = async (method: string, parsed: ParsedApiRequest): Promise<ApiReply> => {
    if (parsed.bodyError) return fail(parsed.bodyError);
    const handler = methods.get(method);
    if (!handler) return fail('unknown_method');
    let teamId: string | null = null;
    if (handler.requiresToken) {
      const check = state.tokens.check(parsed.token);
      if (!check.ok) return fail(check.error);
      teamId = check.teamId;
    }
    return handler.handle({ params: parsed.params, token: parsed.token, teamId, basicAuth: parsed.basicAuth });
  };

  const router = express.Router();
  // Raw bodies: request-params decides how to read them, and 40,000-character messages fit.
  router.use(express.raw({ type: () => true, limit: '10mb' }));
  router.get('/:method', handle);
  router.post('/:method', handle);
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status ?? 500;
    state.log(`web api request failed: ${error instanceof Error ? error.message : String(error)}`);
    res.status(status).json({ ok: false, error: status === 413 ? 'request_too_large' : 'internal_error' });
  });
  return router;
}

function send(res: Response, reply: ApiReply): void {
  res.status(reply.status);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (typeof reply.body === 'string') res.send(reply.body);
  else res.json(reply.body);
}

function describeError(reply: ApiReply): string {
  if (typeof reply.body === 'string') return '';
  return reply.body.ok === false ? ` ${String(reply.body.error)}` : ' ok';
}
