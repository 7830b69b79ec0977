import type { SandboxFault } from './types.js';

interface QueuedFault {
  fault: SandboxFault;
  remaining: number;
}

/**
 * Faults injected by tests. Each call takes the first queued fault that matches
 * its method (a fault without a method matches every call); a fault is dropped
 * once it has been used `times` times.
 */
export class FaultQueue {
  private queue: QueuedFault[] = [];

  push(fault: SandboxFault): void {
    validate(fault);
    this.queue.push({ fault: { ...fault }, remaining: fault.times ?? 1 });
  }

  take(method: string): SandboxFault | undefined {
    const index = this.queue.findIndex((entry) => entry.fault.method === undefined || entry.fault.method === method);
    const entry = this.queue[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.queue.splice(index, 1);
    return entry.fault;
  }

  clear(): void {
    this.queue = [];
  }
}

// Catch typos in tests early instead of answering with a confusing status.
function validate(fault: SandboxFault): void {
  const times = fault.times ?? 1;
  if (!Number.isInteger(times) || times < 1) throw new TypeError(`fault.times must be a positive integer, got ${fault.times}`);
  switch (fault.kind) {
    case 'http':
      if (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599) {
        throw new TypeError(`http fault status must be 400-599, got ${fault.status}`);
      }
      return;
    case 'error':
      if (!fault.error) throw new TypeError('error fault needs an error code');
      return;
    case 'ratelimit':
      if (!Number.isInteger(fault.retryAfter) || fault.retryAfter < 0) {
        throw new TypeError(`ratelimit fault retryAfter must be whole seconds, got ${fault.retryAfter}`);
      }
      return;
    case 'delay':
    case 'late_answer':
      if (!(fault.ms >= 0)) throw new TypeError(`${fault.kind} fault ms must be >= 0, got ${fault.ms}`);
      return;
    default:
      throw new TypeError(`unknown fault kind ${(fault as { kind: unknown }).kind}`);
  }
}
