import { relative, isAbsolute } from 'node:path';

/*
 * Where a decorator was applied, as a stable text: file:line:column of the application and of the
 * application code calling it (the function a class is declared in, a factory's caller, the
 * module body), up to the first frame of Node itself or of a package. It tells two same-named
 * classes apart (two modules, one test file declaring a class per test case, one factory called
 * from two places) and stays the same when a module is evaluated again (hot reload, a test
 * runner's fresh module registry) and in every process running the same build. Module loading
 * always passes through Node's own frames, so the module that required the file is not part of
 * the site: it does not depend on who loaded the module first. Decorator helpers in packages
 * (tslib) above the application's frames are skipped.
 */

function isUserFile(file: string | undefined | null): file is string {
  return !!file && !file.startsWith('node:') && !/[\\/]node_modules[\\/]/.test(file);
}

/** Relative to the working directory when inside it, so that two checkouts of one build agree. */
function shownFile(file: string): string {
  const path = file.startsWith('file://') ? new URL(file).pathname : file;
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** The declaration site of the decorator call below `decorator` on the stack, or `undefined` off V8. */
export function declarationSite(decorator: Function): string | undefined {
  const prepare: unknown = Reflect.get(Error, 'prepareStackTrace'); // a user's formatter, put back after
  const limit = Error.stackTraceLimit;
  let frames: unknown;
  try {
    Error.stackTraceLimit = 40;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, decorator);
    frames = holder.stack; // read here: V8 formats the stack on first access
  } finally {
    Reflect.set(Error, 'prepareStackTrace', prepare);
    Error.stackTraceLimit = limit;
  }
  if (!Array.isArray(frames)) return undefined;
  const sites = frames as NodeJS.CallSite[];
  const first = sites.findIndex((site) => isUserFile(site.getFileName()));
  if (first < 0) return undefined;
  const positions: string[] = [];
  for (let i = first; i < sites.length && isUserFile(sites[i].getFileName()); i += 1) {
    positions.push(`${shownFile(sites[i].getFileName() as string)}:${sites[i].getLineNumber()}:${sites[i].getColumnNumber()}`);
  }
  return positions.join(' < ');
}
