import { describe, expect, it } from 'vitest';
import { preciseNow, stepTimer } from '../../src/lib/step-timer.js';

const busy = (ms: number) => {
  const until = preciseNow() + ms;
  while (preciseNow() < until);
};

describe('stepTimer', () => {
  it('gives each step the time since the previous mark, adding up a step marked twice', () => {
    const timer = stepTimer(true);
    busy(3);
    timer.mark('first');
    busy(1);
    timer.mark('second');
    busy(2);
    timer.mark('first');
    expect(Object.keys(timer.steps)).toEqual(['first', 'second']);
    expect(timer.steps.first).toBeGreaterThanOrEqual(5);
    expect(timer.steps.second).toBeGreaterThanOrEqual(1);
    expect(timer.steps.second).toBeLessThan(timer.steps.first!);
    expect(timer.lastAt - timer.startedAt).toBeCloseTo(timer.steps.first! + timer.steps.second!, 1);
    expect(Math.abs(timer.startedAt - Date.now())).toBeLessThan(1000);
  });

  it('off, marks nothing', () => {
    const timer = stepTimer(false);
    timer.mark('first');
    expect(timer.steps).toEqual({});
    expect(timer.startedAt).toBe(0);
  });
});
