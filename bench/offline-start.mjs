// Benchmark (not a test): how fast a pupil sees a lesson, on a slow machine, online on a first visit and
// offline from the service worker's copy, each against the floor of the same lesson as a static page; and
// how many bytes the app and its worker weigh gzipped.
//
//   node bench/offline-start.mjs [--runs N] [--rate R]     (or ./scripts/bench-offline.sh, which builds first)
//
// `measureOfflineStart` is the same measurement for bench/report.mjs (./scripts/bench.sh).
//
// Chromium's CPU is throttled R times (default 6) through the DevTools protocol. Each timing is read from the
// page's own clock, from the navigation's start to the moment the lesson's text is first painted (Element
// Timing's render time). The floor is the same lesson as a static page: its text and the app's stylesheet,
// no script, served by the same origin. Each start is given as a ratio, the app's median over the floor's
// median, both measured in this run, in turns, on this machine:
// - cold: a pupil's first visit to the lesson (a fresh browser context: no cache, no worker, no open
//   connection) against the static page opened the same way; on loopback, then through a shaped line
//   (bench/line.mjs: 4 Mbit/s each way, 100 ms round trip, the worker's requests included);
// - warm offline: the lesson in a new tab of a browser that saved the course, offline, against the static
//   page in a new tab of another browser context, kept from run to run (online, no worker, the page in its
//   HTTP cache after the first run). A new tab has a cost of its own before any of the page's work, which
//   the floor pays too. The same start with the worker stopped first, and by reloading an open tab,
//   are measured beside it.
// Chromium throttles a page's CPU only ("only supported for pages, not workers"): the service worker's own
// work (keeping the shell, answering offline) runs at full speed, which flatters the app's figures.
// Prints a table, writes the same figures to target/bench/offline-start.json, and exits 0 whether or not a
// target is met; non-zero only when a measurement failed (an error in the page, a timeout, a run that was
// not really offline).
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { launch, packSample, root, scratch, serve } from '../tests/e2e/harness.mjs';
import { shapedLine } from './line.mjs';
import { isMain, machine, median, progress, withCleanups } from './machine.mjs';
import { measureTransfer, TARGET_WORKER_BYTES } from './transfer.mjs';

const LESSON = '#/lecon/1';
const LESSON_TEXT = 'Pendant la fermeture du collège';
const SAVE_BUTTON = 'Enregistrer pour consulter hors ligne';
const SAVED_TEXT = 'Ce cours est disponible hors ligne.';
const OFFLINE_BANNER = /^Hors ligne : copie du /;
const STATIC_LESSON = 'bench-static-lesson.html';
const TIMEOUT = 60_000;
/** A pupil's line at home: slow ADSL, or a phone's shared connection. */
const SHAPED_LINE = { mbitPerSecond: 4, rttMs: 100 };
const TARGET_OFFLINE_MS = 500;
/** The app's median start over the floor's: at most this much for a first visit, and offline. */
const TARGET_COLD_RATIO = 1.5;
const TARGET_WARM_RATIO = 1.15;

function options(argv) {
  const opts = { runs: 5, rate: 6 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => Number(inline ?? argv[++i]);
    if (flag === '--runs') opts.runs = value();
    else if (flag === '--rate') opts.rate = value();
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: node bench/offline-start.mjs [--runs N (default 5)] [--rate CPU_THROTTLE (default 6)]');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]} (try --help)`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs wants a whole number >= 1');
  if (!(opts.rate >= 1)) throw new Error('--rate wants a number >= 1');
  return opts;
}

// Runs in the page before its scripts: marks each block of text of a lesson for Element Timing as it is
// inserted (before it can be painted), and notes the earliest paint of a block holding `text`. Marking
// forces no layout, so that watching does not slow down what it measures on a throttled CPU.
function watchForLesson(text) {
  new MutationObserver(() => {
    for (const block of document.querySelectorAll('article.lesson-body > :not([elementtiming])')) {
      block.setAttribute('elementtiming', block.textContent.includes(text) ? 'lesson-text' : 'lesson');
    }
  }).observe(document, { childList: true, subtree: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.identifier === 'lesson-text' && entry.renderTime > 0) {
        window.__benchLessonAt = Math.min(window.__benchLessonAt ?? Infinity, entry.renderTime);
      }
    }
  }).observe({ type: 'element', buffered: true });
}

/** A new page in `context`, CPU throttled, recording uncaught errors; the lesson watcher installed. */
async function throttledPage(context, rate) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.addInitScript(watchForLesson, LESSON_TEXT);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  page.cdp = cdp;
  return page;
}

/**
 * Navigates `page` to the lesson (or reloads it, with `reload`) and returns milliseconds from navigation
 * start to the lesson text painted.
 */
async function timeLesson(page, url, what, { reload = false } = {}) {
  try {
    if (reload) await page.reload({ timeout: TIMEOUT });
    else await page.goto(url, { timeout: TIMEOUT });
    await page.getByText(LESSON_TEXT).waitFor({ state: 'visible', timeout: TIMEOUT });
    const handle = await page.waitForFunction(() => window.__benchLessonAt, null, { timeout: TIMEOUT });
    const ms = await handle.jsonValue();
    if (page.errors.length) throw new Error(`error in the page: ${page.errors.join('; ')}`);
    return Math.round(ms * 10) / 10;
  } catch (error) {
    const body = await page.locator('body').innerText({ timeout: 5_000 }).catch(() => '(unreadable)');
    throw new Error(`${what}: ${error.message.split('\n')[0]}\n  page text: ${body.slice(0, 400)}`);
  }
}

/** Stops every service worker of the browser and waits until DevTools reports them all stopped. */
async function stopWorkers(cdp, what) {
  const status = new Map();
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) status.set(v.versionId, v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  const deadline = Date.now() + 10_000;
  while ([...status.values()].some((s) => s !== 'stopped') || status.size === 0) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: the service worker did not stop (${JSON.stringify([...status])})`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  await cdp.send('ServiceWorker.disable');
}

/**
 * Writes the floor's page into `www`, the folder the origin serves: the lesson as the app shows it (the
 * copy of its article, without its pictures, whose blob: addresses were that page's), with the app's
 * stylesheet and no script. Read from a page of a context of its own, not throttled.
 */
async function writeStaticLesson(browser, url, www) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url + LESSON, { timeout: TIMEOUT });
    await page.getByText(LESSON_TEXT).waitFor({ state: 'visible', timeout: TIMEOUT })
      .catch(() => { throw new Error(`static page: the lesson never showed online`); });
    const lesson = await page.locator('article.lesson-body').evaluate((article) => {
      const copy = article.cloneNode(true);
      for (const picture of copy.querySelectorAll('img')) picture.remove();
      return copy.outerHTML;
    });
    writeFileSync(join(www, STATIC_LESSON), '<!doctype html><html lang="fr"><head><meta charset="utf-8">' +
      '<title>cartable</title><link rel="stylesheet" href="style.css"></head><body>' + lesson + '</body></html>');
  } finally {
    await context.close();
  }
}

/**
 * Cold starts through `url` (the origin, or a shaped line towards it): `runs` first visits to the lesson
 * and as many to the static page, each in a fresh browser context, in turns (which goes first alternates,
 * so that neither always finds the machine busier). With `line`, also the bytes from the origin that
 * had reached the browser when each lesson's text was painted.
 */
async function coldStarts(browser, url, name, opts, line = null) {
  const app = { ms: [], bytes: [] };
  const floor = { ms: [], bytes: [] };
  for (let run = 1; run <= opts.runs; run++) {
    const starts = [[app, url + LESSON, 'cold start'], [floor, url + STATIC_LESSON, 'cold static page']];
    if (run % 2 === 0) starts.reverse();
    for (const [values, address, what] of starts) {
      const context = await browser.newContext();
      try {
        const page = await throttledPage(context, opts.rate);
        const before = line?.received();
        values.ms.push(await timeLesson(page, address, `${what}, ${name}, run ${run}`));
        if (line) {
          const painted = await page.evaluate(() => performance.timeOrigin + window.__benchLessonAt);
          values.bytes.push(line.received(painted) - before);
        }
      } finally {
        await context.close();
      }
    }
  }
  return { app, floor };
}

async function warmOffline(browser, url, opts) {
  const context = await browser.newContext();
  try {
    // Online, unthrottled: let the worker take control, then save the course for offline.
    const setup = await context.newPage();
    setup.errors = [];
    setup.on('pageerror', (error) => setup.errors.push(error.message));
    await setup.goto(url, { timeout: TIMEOUT });
    await setup.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT })
      .catch(() => { throw new Error('warm offline start: no service worker took control of the page online'); });
    await setup.getByRole('button', { name: SAVE_BUTTON }).click({ timeout: TIMEOUT });
    await setup.getByText(SAVED_TEXT).waitFor({ state: 'visible', timeout: TIMEOUT })
      .catch(() => { throw new Error(`warm offline start: "${SAVED_TEXT}" never appeared after saving`); });
    if (setup.errors.length) throw new Error(`warm offline start, setup: error in the page: ${setup.errors.join('; ')}`);
    await setup.close();
    // The floor: the static page (no worker), opened in a new tab of another context at the same moments
    // as the warm starts.
    const plain = await browser.newContext();

    await context.setOffline(true);
    const kept = [], restarted = [], reloaded = [], floor = [];
    const check = async (page, what) => {
      const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
      if (!controlled) throw new Error(`${what}: the page was not served by the service worker`);
      await page.getByText(OFFLINE_BANNER).waitFor({ state: 'visible', timeout: 10_000 })
        .catch(() => { throw new Error(`${what}: the lesson showed but the "Hors ligne" banner did not`); });
    };
    for (let run = 1; run <= opts.runs; run++) {
      for (const [values, stopWorker] of [[kept, false], [restarted, true]]) {
        const what = `warm offline start, new tab${stopWorker ? ', worker stopped first' : ''}, run ${run}`;
        const page = await throttledPage(context, opts.rate);
        if (stopWorker) await stopWorkers(page.cdp, what);
        values.push(await timeLesson(page, url + LESSON, what));
        await check(page, what);
        await page.close();
      }
      const page = await throttledPage(plain, opts.rate);
      floor.push(await timeLesson(page, url + STATIC_LESSON, `static page, run ${run}`));
      await page.close();
    }
    await plain.close();
    // Then in one open tab (opened once, not measured), reloaded: no new tab to set up each time.
    const open = await throttledPage(context, opts.rate);
    await timeLesson(open, url + LESSON, 'warm offline start, opening the tab to reload');
    for (let run = 1; run <= opts.runs; run++) {
      const what = `warm offline start, reloading an open tab, run ${run}`;
      reloaded.push(await timeLesson(open, url + LESSON, what, { reload: true }));
      await check(open, what);
    }
    return { kept, restarted, reloaded, floor };
  } finally {
    await context.close();
  }
}

const kb = (bytes) => (bytes / 1000).toFixed(1);
const ms = (value) => Math.round(value);
const list = (values) => `[${values.map(ms).join(', ')}]`;

/** `values` and their median. */
const figure = (values) => ({ median: median(values), values });
/** The app's median over the floor's (to 3 decimals): the two sets of runs measured in turns. */
const ratio = (app, floor) => Math.round((median(app) / median(floor)) * 1000) / 1000;

/** The figures of one line's cold starts (`coldStarts`), with the bytes through the line when it was shaped. */
function coldFigures({ app, floor }, shaped) {
  return {
    app_ms: figure(app.ms),
    static_page_ms: figure(floor.ms),
    ratio: ratio(app.ms, floor.ms),
    ...(shaped ? { app_bytes: figure(app.bytes), static_page_bytes: figure(floor.bytes) } : {}),
  };
}

/**
 * Measures the cold starts (a first visit, on loopback and on a shaped line) and the warm offline starts
 * (`runs` each, CPU throttled `rate` times), each with its floor, in a Chromium of its own against the
 * packed sample course, and the app's and worker's gzip transfer. Returns the figures, the ratios, the
 * targets and the machine; throws when a measurement failed.
 */
export async function measureOfflineStart({ runs = 5, rate = 6 } = {}) {
  const opts = { runs, rate };
  for (const file of ['pkg/cartable_bg.wasm', 'pkg/cartable_sw_bg.wasm', 'pkg/shell.json']) {
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: build the app first (source scripts/setup.sh)`);
  }
  const { app_gzip_bytes: app, service_worker_gzip_bytes: worker } = measureTransfer();
  const loadBefore = loadavg()[0];
  const { cold, warm, where } = await withCleanups(async (t) => {
    const dir = scratch(t);
    const course = packSample(dir);
    // The app's pages, copied so that the static page of the floor can be put next to them.
    const www = join(dir, 'www');
    cpSync(join(root, 'www'), www, { recursive: true });
    const { url } = await serve(t, course, ['--www', www]);
    const line = await shapedLine(t, url, SHAPED_LINE);
    const browser = await launch(t);
    const where = machine(browser);
    await writeStaticLesson(browser, url, www);
    progress(`offline start: ${runs} cold starts and static pages on loopback, CPU throttled ${rate}x`);
    const loopback = await coldStarts(browser, url, 'loopback', opts);
    const { mbitPerSecond, rttMs } = SHAPED_LINE;
    progress(`offline start: the same on a shaped line (${mbitPerSecond} Mbit/s, ${rttMs} ms round trip)`);
    const shaped = await coldStarts(browser, line.url, 'shaped line', opts, line);
    progress(`offline start: ${runs} warm offline starts of each kind`);
    const warm = await warmOffline(browser, url, opts);
    return { cold: { loopback, shaped }, warm, where };
  });

  const coldLoopback = coldFigures(cold.loopback, false);
  const coldShaped = {
    line: { mbit_per_second: SHAPED_LINE.mbitPerSecond, rtt_ms: SHAPED_LINE.rttMs },
    ...coldFigures(cold.shaped, true),
  };
  const warmMedian = median(warm.kept);
  const warmRatio = ratio(warm.kept, warm.floor);
  return {
    machine: where,
    cpu_throttle: rate,
    runs,
    load_average_1min: { before: loadBefore, after: loadavg()[0] },
    cold_loopback: coldLoopback,
    cold_shaped_line: coldShaped,
    warm_offline_ms: figure(warm.kept),
    warm_offline_worker_stopped_ms: figure(warm.restarted),
    warm_offline_reload_ms: figure(warm.reloaded),
    static_page_new_tab_ms: figure(warm.floor),
    warm_offline_ratio: warmRatio,
    warm_offline_worker_stopped_ratio: ratio(warm.restarted, warm.floor),
    service_worker_gzip_bytes: worker,
    app_gzip_bytes: app,
    targets: {
      cold_ratio_max: TARGET_COLD_RATIO,
      cold_loopback_met: coldLoopback.ratio <= TARGET_COLD_RATIO,
      cold_shaped_line_met: coldShaped.ratio <= TARGET_COLD_RATIO,
      warm_offline_ratio_max: TARGET_WARM_RATIO,
      warm_offline_ratio_met: warmRatio <= TARGET_WARM_RATIO,
      warm_offline_ms_max: TARGET_OFFLINE_MS,
      warm_offline_new_tab_met: warmMedian <= TARGET_OFFLINE_MS,
      warm_offline_reload_met: median(warm.reloaded) <= TARGET_OFFLINE_MS,
      service_worker_gzip_bytes_max: TARGET_WORKER_BYTES,
      service_worker_met: worker.total <= TARGET_WORKER_BYTES,
    },
  };
}

/** Prints the figures of `measureOfflineStart` as a table. */
function printTable(results) {
  const { runs, cpu_throttle: rate, targets } = results;
  const { cold_loopback: loopback, cold_shaped_line: shaped } = results;
  const yes = (met) => (met ? 'yes' : 'no');
  const name = (file) => file.split('/').pop();
  const parts = (sizes) => sizes.files.map((s) => `${name(s.file)} ${kb(s.gzip)}`).join(', ');
  const size = (label, sizes) => console.log(`${label.padEnd(50)}${`${kb(sizes.total)} KB`.padStart(12)}   (${parts(sizes)})`);
  const row = (label, app, floor = '', ratio = '', target = '') => console.log(label.padEnd(50) + app.padStart(12) +
    floor.padStart(12) + ratio.padStart(9) + '   ' + target);
  const start = (label, app, floor, ratio, max, met) =>
    row(label, `${ms(app.median)} ms`, `${ms(floor.median)} ms`, `${ratio.toFixed(2)}×`, max ? `≤ ${max}×: ${yes(met)}` : '');
  const line = `${shaped.line.mbit_per_second} Mbit/s, ${shaped.line.rtt_ms} ms round trip`;
  console.log(`cartable start, navigation → lesson text painted, CPU throttled ${rate}x, median of ${runs} ` +
    `run${runs > 1 ? 's' : ''}; floor: the same lesson as a static page; ratio: cartable / floor`);
  row('start', 'cartable', 'floor', 'ratio', 'target');
  start('cold, first visit, loopback', loopback.app_ms, loopback.static_page_ms, loopback.ratio,
    targets.cold_ratio_max, targets.cold_loopback_met);
  start(`cold, first visit, ${line}`, shaped.app_ms, shaped.static_page_ms, shaped.ratio,
    targets.cold_ratio_max, targets.cold_shaped_line_met);
  start('warm offline, new tab', results.warm_offline_ms, results.static_page_new_tab_ms, results.warm_offline_ratio,
    targets.warm_offline_ratio_max, targets.warm_offline_ratio_met);
  start('warm offline, new tab, service worker stopped', results.warm_offline_worker_stopped_ms,
    results.static_page_new_tab_ms, results.warm_offline_worker_stopped_ratio);
  row('warm offline, reloading an open tab', `${ms(results.warm_offline_reload_ms.median)} ms`);
  console.log('runs (ms):');
  console.log(`  cold, loopback: cartable ${list(loopback.app_ms.values)}, floor ${list(loopback.static_page_ms.values)}`);
  console.log(`  cold, shaped line: cartable ${list(shaped.app_ms.values)}, floor ${list(shaped.static_page_ms.values)}`);
  console.log(`  warm offline, new tab ${list(results.warm_offline_ms.values)}, service worker stopped ` +
    `${list(results.warm_offline_worker_stopped_ms.values)}, reloading ${list(results.warm_offline_reload_ms.values)}; ` +
    `floor ${list(results.static_page_new_tab_ms.values)}`);
  console.log(`bytes from the origin on the shaped line by the lesson text's paint (median): cartable ` +
    `${kb(shaped.app_bytes.median)} KB, floor ${kb(shaped.static_page_bytes.median)} KB`);
  size('service worker bundle (gzip)', results.service_worker_gzip_bytes);
  size('app (gzip)', results.app_gzip_bytes);
  console.log(`targets: warm offline start <= ${TARGET_OFFLINE_MS} ms: reloading an open tab ` +
    `${yes(targets.warm_offline_reload_met)}, new tab ${yes(targets.warm_offline_new_tab_met)}; ` +
    `service worker <= ${TARGET_WORKER_BYTES / 1000} KB gzip: ${yes(targets.service_worker_met)}`);
}

async function main() {
  const opts = options(process.argv.slice(2));
  const bin = process.env.CARTABLE_BIN ?? join(root, 'target/debug/cartable');
  if (!existsSync(bin)) throw new Error(`the cartable binary ${bin} is missing: cargo build -p cartable-cli (or set CARTABLE_BIN)`);
  const results = await measureOfflineStart(opts);
  printTable(results);
  const out = join(root, 'target/bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'offline-start.json'), JSON.stringify(results, null, 2) + '\n');
  const { before, after } = results.load_average_1min;
  console.log(`(1 KB = 1000 bytes; the service worker's CPU is not throttled; load average ${before.toFixed(1)} ` +
    `before, ${after.toFixed(1)} after, on ${results.machine.cores} cores; written to target/bench/offline-start.json)`);
}

if (isMain(import.meta.url)) {
  main().catch((error) => {
    console.error(`bench/offline-start: measurement failed: ${error.message}`);
    process.exit(1);
  });
}
