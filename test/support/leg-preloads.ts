/**
 * The resolution preloads (`--import`, `--require`) this process runs with: a version leg's
 * (scripts/leg-preload.mjs), for a child process of a test to resolve the leg's packages too.
 */
export const legPreloads: readonly string[] = process.execArgv.flatMap((arg, i, all) =>
  arg === '--import' || arg === '--require' ? [arg, all[i + 1]] : /^--(import|require)=/.test(arg) ? [arg] : [],
);
