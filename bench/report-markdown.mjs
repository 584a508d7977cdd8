// The benchmark report (bench/report.mjs) as Markdown: one section per measurement, each with the
// machine and date it was measured on, or the reason it failed. Formats only; measures nothing.

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const mb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`);
const ms = (value) => `${Math.round(value)} ms`;
const yes = (met) => (met ? 'yes' : '**no**');
const values = (list) => list.map((v) => Math.round(v)).join(', ');

/** One line: where and when a section was measured, and the load before and after. */
function where(m, after) {
  if (!m) return '';
  const browser = m.chromium ? `, Chromium ${m.chromium}` : '';
  const end = after ? `, ${after[0]} at the end` : '';
  return `_${m.date}; ${m.cores} cores (${m.cpu}), ${Math.round(m.memory_mb / 1000)} GB${browser}; ` +
    `load average (1 / 5 / 15 min) ${m.load_average.join(' / ')} at the start${end}_\n`;
}

function transfer(s) {
  const files = (sizes) => sizes.files.map((f) => `${f.file.split('/').pop()} ${kb(f.gzip)}`).join(', ');
  const { app_gzip_bytes: app, service_worker_gzip_bytes: worker, targets } = s;
  return `| download | gzip -9 | zlib level 9 | raw | target (gzip -9) |
|---|---|---|---|---|
| app (what a pupil's browser downloads) | ${kb(app.total)} | ${kb(app.zlib_total)} | ${kb(app.raw)} | |
| service worker | ${kb(worker.total)} | ${kb(worker.zlib_total)} | ${kb(worker.raw)} | ≤ ${kb(targets.service_worker_gzip_bytes_max)}: ${yes(targets.service_worker_met)} |

gzip -9 is gzip(1), as \`scripts/size.sh\`; zlib level 9 is Node's zlib, the library most web servers compress with. App: ${files(app)}.
Worker: ${files(worker)}.
`;
}

function start(s) {
  const { cold_loopback: loopback, cold_shaped_line: shaped, targets } = s;
  const ratio = (value) => `${value.toFixed(2)}×`;
  const target = (max, met) => `≤ ${max}×: ${yes(met)}`;
  const row = (label, app, floor, r, goal = '') => `| ${label} | ${ms(app.median)} | ${ms(floor.median)} | ${ratio(r)} | ${goal} |`;
  const runs = (label, app, floor) => `| ${label} | ${values(app.values)} | ${floor ? values(floor.values) : ''} |`;
  const line = `${shaped.line.mbit_per_second} Mbit/s, ${shaped.line.rtt_ms} ms round trip`;
  return `CPU throttled ${s.cpu_throttle}x, median of ${s.runs} runs each; navigation start → lesson text painted.
Floor: the same lesson as a static page (its text and the app's stylesheet, no script) from the same origin,
opened the same way, in turns with the app; ratio: the app's median / the floor's. Cold: a first visit, in a
fresh browser context; the shaped line is a proxy pacing every byte, the worker's included. Chromium does not
throttle the service worker's CPU, which flatters the app.

| start | cartable (median) | floor (median) | ratio | target |
|---|---|---|---|---|
${row('cold, first visit, loopback', loopback.app_ms, loopback.static_page_ms, loopback.ratio,
    target(targets.cold_ratio_max, targets.cold_loopback_met))}
${row(`cold, first visit, ${line}`, shaped.app_ms, shaped.static_page_ms, shaped.ratio,
    target(targets.cold_ratio_max, targets.cold_shaped_line_met))}
${row('warm, offline, new tab', s.warm_offline_ms, s.static_page_new_tab_ms, s.warm_offline_ratio,
    target(targets.warm_offline_ratio_max, targets.warm_offline_ratio_met))}
${row('warm, offline, new tab, service worker stopped first', s.warm_offline_worker_stopped_ms,
    s.static_page_new_tab_ms, s.warm_offline_worker_stopped_ratio)}
| warm, offline, reloading an open tab | ${ms(s.warm_offline_reload_ms.median)} | | | |

| runs | cartable (ms) | floor (ms) |
|---|---|---|
${runs('cold, loopback', loopback.app_ms, loopback.static_page_ms)}
${runs('cold, shaped line', shaped.app_ms, shaped.static_page_ms)}
${runs('warm, offline, new tab', s.warm_offline_ms, s.static_page_new_tab_ms)}
${runs('warm, offline, new tab, service worker stopped first', s.warm_offline_worker_stopped_ms)}
${runs('warm, offline, reloading an open tab', s.warm_offline_reload_ms)}

On the shaped line the browser had received ${kb(shaped.app_bytes.median)} from the origin when the app's ` +
    `lesson text was painted, ${kb(shaped.static_page_bytes.median)} for the static page (medians). Target warm offline ≤ ` +
    `${ms(targets.warm_offline_ms_max)}: new tab ${yes(targets.warm_offline_new_tab_met)}, reloading ` +
    `${yes(targets.warm_offline_reload_met)}.
`;
}

function hash(s) {
  const rows = s.by_cpu_throttle.map((r) => `| ${r.cpu_throttle}x | ${r.webcrypto_mb_s.median.toFixed(0)} | ` +
    `${r.wasm_sha2_mb_s.median.toFixed(0)} | ${(r.webcrypto_mb_s.median / r.wasm_sha2_mb_s.median).toFixed(1)}x |`);
  return `${s.rounds} rounds over ${mb(s.total_bytes)} in ${s.chunk_bytes / 1024} KiB chunks, one chunk at a time, ` +
    `in one page of the app; the digests were identical.

| CPU throttle | WebCrypto (MB/s, median) | wasm sha2 (MB/s, median) | WebCrypto / wasm |
|---|---|---|---|
${rows.join('\n')}
`;
}

function memory(s) {
  const { app, plain_floor: floor } = s;
  const status = s.saved ? `the app saved it in ${s.save_seconds.toFixed(1)} s (${s.save_mb_s.toFixed(1)} MB/s)`
    : `the app did **not** save it: ${app.failure} (after ${s.save_seconds.toFixed(1)} s)`;
  const floorStatus = floor.failure ? `did not finish: ${floor.failure}` : `took ${floor.seconds.toFixed(1)} s`;
  const row = (label, pick) => {
    const cells = [app, floor].flatMap((run) => [run.before, run.peaks, run.after_gc].map((at) => mb(pick(at))));
    return `| ${label} | ${cells.join(' | ')} |`;
  };
  return `Course: ${mb(s.course_bytes)} in ${s.chunks} chunks of ${s.chunk_bytes / 1024} KiB (the sample plus a ` +
    `random video); ${status}; the browser then reported ${mb(s.storage_used_bytes)} of storage used. The floor, ` +
    `the same chunks fetched, hashed and put in IndexedDB one at a time by a few lines of plain JavaScript in a ` +
    `blank page of the same origin (another Chromium), ${floorStatus}. Sampled every ${s.interval_ms} ms ` +
    `(${app.peaks.samples} samples for the app, largest gap ${app.peaks.largest_gap_ms} ms).

| memory | app: before "save" | app: peak | app: saved, 2 s later, GC | floor: before | floor: peak | floor: done, 2 s later, GC |
|---|---|---|---|---|---|---|
${row('page JS heap, used', (m) => m.js_heap_used)}
${row('page JS heap, total', (m) => m.js_heap_total)}
${row('app wasm memory', (m) => m.wasm_memory)}
${row('largest renderer process, RSS', (m) => m.rss_largest_renderer)}
${row('all renderer processes, PSS', (m) => m.pss_renderers ?? m.pss_by_type.renderer)}
${row('browser process (holds IndexedDB), RSS', (m) => m.rss_browser ?? m.rss_by_type.browser)}
${row('every process of the browser, PSS', (m) => m.pss_all_processes)}

RSS counts pages shared between processes in each of them; PSS divides them among the sharers, so PSS
figures add up. The largest renderer is most likely the page's (its service worker may run in the same
process or apart; DevTools does not say which process is which). ${app.peaks.renderers} renderer processes at most.
${app.before.process_error ? `\nNo process memory: ${app.before.process_error}.\n` : ''}`;
}

function classes(s) {
  const rows = s.classes.map((c) => {
    const first = c.firstPeerSeconds === null ? 'none' : `${c.firstPeerSeconds.toFixed(1)} s (${c.pupilsWithPeerBytes} pupils)`;
    return `| ${c.size} | ${c.originRatio.toFixed(2)} | ${(100 * c.fromPeers).toFixed(0)} % | ${c.lastSeconds.toFixed(1)} s | ${first} |`;
  });
  const course = s.classes[0] ? ` Course: ${mb(s.classes[0].courseBytes)}.` : '';
  return `The whole origin (page, app and course) at capacity 1 (503, Retry-After 2 s), no mirror, one Chromium, one context per pupil; origin bytes are the course's chunks.${course}

| pupils | origin bytes / course size | from classmates | last pupil done | first chunk from a classmate (median) |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

function visit(s) {
  return `A fresh browser opens the served sample course: the bytes the origin sent (headers and compressed
bodies, counted by a proxy) until the course home is shown and the worker controls the page and has kept
the shell. Floor: the app and the worker, gzip -9 (section 1's files): ${kb(s.floor_gzip_bytes)}.

| bytes on the wire | / floor | requests | seconds |
|---|---|---|---|
| ${kb(s.bytes_on_the_wire)} | ${(s.bytes_on_the_wire / s.floor_gzip_bytes).toFixed(2)} | ${s.requests.length} | ${s.seconds.toFixed(1)} |

Requests: ${s.requests.map((r) => `\`${r}\``).join(', ')}.
`;
}

const SECTIONS = {
  transfer: ['Transfer (gzip)', transfer],
  visit: ['First visit: the app on the wire', visit],
  start: ['Cold and warm start at 6x CPU throttle, against a static page', start],
  hash: ['SHA-256 throughput: WebCrypto and the wasm sha2, same page', hash],
  memory: ['Memory while saving a big course for offline', memory],
  class: ['A class saving from each other, origin saturated', classes],
};

/** The report as Markdown. */
export function reportMarkdown(report) {
  const m = report.machine;
  const out = [`# cartable benchmark report\n`,
    `Run ${report.started} → ${report.finished} on ${m.cores} cores (${m.cpu}), ${Math.round(m.memory_mb / 1000)} GB; ` +
    `1 KB = 1000 bytes, 1 MB = 10⁶ bytes.${report.options.quick ? ' Quick run (--quick).' : ''}\n`];
  let number = 0;
  for (const [name, section] of Object.entries(report.sections)) {
    const [title, format] = SECTIONS[name];
    out.push(`## ${++number}. ${title}\n`, where(section.machine, section.load_average_after));
    if (section.ok || section.app) out.push(format(section));
    if (!section.ok) out.push(`**Measurement failed:** ${section.error}\n`);
  }
  return out.join('\n');
}
