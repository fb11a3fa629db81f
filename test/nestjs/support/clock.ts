import { mock } from 'node:test';

/*
 * A computation that learns a tag (from a nested cached call or a loaded entity) is not stored
 * while the tag's last invalidation is within the cache's clock-skew margin of it (DESIGN.md
 * invariant 2). Suites that write then read at once freeze the clock and move it past that margin
 * after each write, as a second of real traffic would, so that what they assert does not depend on
 * how fast the machine is.
 */
export const freezeClock = (): void => mock.timers.enable({ apis: ['Date'], now: Date.now() });
export const unfreezeClock = (): void => mock.timers.reset();
export const passSkewMargin = (): void => mock.timers.tick(2000);
