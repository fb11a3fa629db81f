/*
 * Sequential latency measurement of variants that are compared with each other. Each variant runs
 * one operation at a time (awaited), and the variants take turns in short rounds whose order
 * rotates, so that machine noise (GC, other processes, CPU frequency) falls on all of them alike.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** One thing to measure: an operation that is awaited before the next one starts. */
export interface Variant {
  name: string;
  run: () => Promise<unknown>;
}

/** How long and how often to run the variants. */
export interface Schedule {
  /** Operations per variant before anything is recorded (JIT, connections, caches). */
  warmupOps: number;
  /** Rounds in which every variant takes one turn. */
  rounds: number;
  /** Operations of one variant in one turn. */
  opsPerRound: number;
  /**
   * Idle time before each measured operation, in ms, not measured (default 0: back to back): the
   * pace of requests, by which every process involved has gone idle between operations.
   */
  pauseMs?: number;
  /**
   * Also take this process's CPU time of each operation (default false): unlike its latency, it
   * leaves out the waits for other processes, and so tells what the code itself costs on a machine
   * whose wake-ups are slow. Costs a system call per operation: for operations of a millisecond.
   */
  cpu?: boolean;
}

/** Idle time before each write of the paced rows, in ms: a write per request, not a loop of writes. */
export const REQUEST_PAUSE_MS = 2;

/** What was measured of one variant. Latencies are in microseconds. */
export interface Stats {
  name: string;
  ops: number;
  opsPerSec: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  /** Mean CPU time of this process per operation, in µs, when the schedule asked for it. */
  cpuUs?: number;
}

function percentile(sorted: Float64Array, p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index];
}

function summarize(name: string, latenciesMs: Float64Array, cpuTotalUs: number | undefined): Stats {
  const sorted = latenciesMs.slice().sort();
  let total = 0;
  for (const ms of latenciesMs) total += ms;
  return {
    name,
    ops: latenciesMs.length,
    opsPerSec: (latenciesMs.length / total) * 1000,
    meanUs: (total / latenciesMs.length) * 1000,
    p50Us: percentile(sorted, 0.5) * 1000,
    p99Us: percentile(sorted, 0.99) * 1000,
    ...(cpuTotalUs === undefined ? {} : { cpuUs: cpuTotalUs / latenciesMs.length }),
  };
}

/** Runs `variants` in alternating rounds and returns their statistics, in the order given. */
export async function compare(variants: readonly Variant[], schedule: Schedule): Promise<Stats[]> {
  for (const variant of variants) {
    for (let i = 0; i < schedule.warmupOps; i++) await variant.run();
  }
  const perRun = schedule.rounds * schedule.opsPerRound;
  const latencies = variants.map(() => new Float64Array(perRun));
  const filled = variants.map(() => 0);
  const cpuUs = variants.map(() => 0);
  const { pauseMs, cpu } = schedule;
  for (let round = 0; round < schedule.rounds; round++) {
    for (let turn = 0; turn < variants.length; turn++) {
      const index = (round + turn) % variants.length;
      const { run } = variants[index];
      const into = latencies[index];
      if (pauseMs) await sleep(pauseMs);
      for (let i = 0; i < schedule.opsPerRound; i++) {
        const used = cpu ? process.cpuUsage() : undefined;
        const start = performance.now();
        await run();
        into[filled[index]++] = performance.now() - start;
        // The pause after an operation is when the work it left for later (a write in the background) runs: counted with it.
        if (pauseMs) await sleep(pauseMs);
        if (used) {
          const { user, system } = process.cpuUsage(used);
          cpuUs[index] += user + system;
        }
      }
    }
  }
  return variants.map((variant, i) => summarize(variant.name, latencies[i], cpu ? cpuUs[i] : undefined));
}
