/**
 * Where one alert's time goes: named steps, each the milliseconds since the previous mark, for
 * the `debug` log (LOG_LEVEL=debug). Intake marks its steps up to the 202, the worker its steps
 * from picking the job up to the recorded outcome. `startedAt` and `lastAt` are wall-clock times
 * with sub-millisecond resolution, so the web's `queuedAt` and the worker's `startedAt` of one
 * alert, on one machine, give the time the job waited for a worker. Off, a timer is a no-op.
 */
export interface StepTimer {
  mark(step: string): void;
  /** ms per step, in the order marked (a step marked twice adds up) */
  readonly steps: Record<string, number>;
  /** wall-clock ms (fractional) when the timer started; 0 when it is off */
  readonly startedAt: number;
  /** wall-clock ms of the last mark */
  readonly lastAt: number;
}

const NO_STEPS: StepTimer = { mark() {}, steps: {}, startedAt: 0, lastAt: 0 };

/** Wall-clock ms with sub-millisecond resolution. */
export const preciseNow = () => performance.timeOrigin + performance.now();

export function stepTimer(enabled: boolean): StepTimer {
  if (!enabled) return NO_STEPS;
  const startedAt = preciseNow();
  const steps: Record<string, number> = {};
  let lastAt = startedAt;
  return {
    steps,
    startedAt,
    get lastAt() {
      return lastAt;
    },
    mark(step) {
      const now = preciseNow();
      steps[step] = round((steps[step] ?? 0) + now - lastAt);
      lastAt = now;
    },
  };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
