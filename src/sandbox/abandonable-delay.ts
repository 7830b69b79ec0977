import type { Response } from 'express';

/**
 * Waits `ms` before a delayed call is answered. Resolves true when the full
 * delay passed, false as soon as the client hangs up (e.g. its timeout fired)
 * or the sandbox closes: such a call is then not executed, like a request that
 * never got through, and no timer outlives the sandbox.
 */
export function delayUnlessAbandoned(ms: number, res: Response, closing: AbortSignal): Promise<boolean> {
  if (closing.aborted || res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (completed: boolean): void => {
      clearTimeout(timer);
      res.off('close', abandon);
      closing.removeEventListener('abort', abandon);
      resolve(completed);
    };
    const abandon = (): void => settle(false);
    const timer = setTimeout(() => settle(true), ms);
    res.once('close', abandon);
    closing.addEventListener('abort', abandon, { once: true });
  });
}
