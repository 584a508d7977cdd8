// What every benchmark records beside its figures: the machine it ran on and when, so that a figure is
// never read without its context (a loaded 2-core machine measures slower than a quiet one).
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';

/**
 * The machine as it is now: date, cores, CPU model, memory, load averages (1, 5, 15 min) and, when a
 * browser is given, its version.
 */
export function machine(browser = null) {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown';
  return {
    date: new Date().toISOString(),
    cores: availableParallelism(),
    cpu: model,
    memory_mb: Math.round(totalmem() / 1e6),
    load_average: loadavg().map((load) => Math.round(load * 100) / 100),
    ...(browser ? { chromium: browser.version() } : {}),
  };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A progress line on standard error, so that standard output keeps only the results. */
export function progress(message) {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** True when the module at `url` (its `import.meta.url`) is the script node was asked to run. */
export function isMain(url) {
  return process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;
}

/**
 * Runs `body(t)` with `t.after(fn)` collecting clean-ups, as node:test does for the harness, and runs
 * them, last first, whatever happens.
 */
export async function withCleanups(body) {
  const cleanups = [];
  const t = { after: (fn) => cleanups.push(fn) };
  try {
    return await body(t);
  } finally {
    for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch(() => {});
  }
}
