/*
 * Throughput with many callers at once: each variant runs `callers` loops side by side, each loop
 * awaiting one operation before its next, as 64 concurrent requests of a server would. Variants take
 * turns in rounds whose order rotates, like `compare`, so that machine noise falls on all alike.
 */
import { performance } from 'node:perf_hooks';

/** One thing to measure concurrently: `run(caller)` is one operation of caller number `caller`. */
export interface ConcurrentVariant {
  name: string;
  run: (caller: number) => Promise<unknown>;
}

/** Throughput of one variant. */
export interface Throughput {
  name: string;
  ops: number;
  opsPerSec: number;
}

async function burst(variant: ConcurrentVariant, callers: number, opsPerCaller: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < opsPerCaller; i++) await variant.run(caller);
    }),
  );
  return performance.now() - started;
}

/** Runs `variants` with `callers` concurrent loops each, in alternating rounds. */
export async function compareConcurrent(
  variants: readonly ConcurrentVariant[],
  schedule: { callers: number; rounds: number; opsPerCaller: number },
): Promise<Throughput[]> {
  for (const variant of variants) await burst(variant, schedule.callers, schedule.opsPerCaller);
  const totalMs = variants.map(() => 0);
  for (let round = 0; round < schedule.rounds; round++) {
    for (let turn = 0; turn < variants.length; turn++) {
      const index = (round + turn) % variants.length;
      totalMs[index] += await burst(variants[index], schedule.callers, schedule.opsPerCaller);
    }
  }
  const ops = schedule.rounds * schedule.callers * schedule.opsPerCaller;
  return variants.map((variant, i) => ({ name: variant.name, ops, opsPerSec: (ops / totalMs[i]) * 1000 }));
}
