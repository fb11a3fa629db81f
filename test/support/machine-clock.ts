/**
 * Milliseconds on the machine's monotonic clock (`process.hrtime`: CLOCK_MONOTONIC on Linux), one
 * clock that every process of the machine reads alike, so that times taken in different processes
 * compare. `performance.timeOrigin + performance.now()` is anchored to the wall clock once per
 * process, at its start, and `Date.now()` follows the wall clock when it is set: either can put two
 * processes' readings of one instant apart.
 */
export const machineNow = (): number => Number(process.hrtime.bigint()) / 1e6;
