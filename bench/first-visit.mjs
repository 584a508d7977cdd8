// Benchmark (not a test): the bytes a pupil's first visit takes off the origin, as they travel on the wire
// (headers and compressed bodies), with the course home shown and the service worker in control. A proxy
// between Chromium and `cartable serve` counts every byte the origin sends, the worker's own requests
// included; the server's access log names the requests.
//
//   node bench/first-visit.mjs [--out FILE.json]
//
// `measureFirstVisit` is the same measurement for bench/report.mjs.
import { writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { launch, packSample, scratch, serve } from '../tests/e2e/harness.mjs';
import { isMain, machine, progress, withCleanups } from './machine.mjs';

const TIMEOUT = 120_000;

/** A TCP proxy on a free loopback port towards `target` (`http://host:port/`); `down()` is the bytes sent
 * from the origin to the browser so far. */
async function countingProxy(t, target) {
  const { hostname, port } = new URL(target);
  let down = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    upstream.on('data', (data) => { down += data.length; });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  t.after(() => new Promise((closed) => { server.close(closed); setTimeout(closed, 1000).unref(); }));
  return { url: `http://127.0.0.1:${server.address().port}/`, down: () => down };
}

/** The first visit of a fresh browser to the served sample course: bytes from the origin, and requests. */
export async function measureFirstVisit() {
  return withCleanups(async (t) => {
    const course = packSample(scratch(t));
    const server = await serve(t, course);
    const proxy = await countingProxy(t, server.url);
    const browser = await launch(t);
    const context = await browser.newContext();
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(proxy.url);
    await page.getByRole('heading', { level: 1, name: course.manifest.course.title }).waitFor({ timeout: TIMEOUT });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT });
    // Whatever the worker still fetches for the shell ends within a few quiet seconds.
    let before = -1;
    while (before !== proxy.down()) {
      before = proxy.down();
      await new Promise((quiet) => setTimeout(quiet, 3000));
    }
    const requests = server.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
    return { machine: machine(browser), bytes_on_the_wire: proxy.down(), seconds: (Date.now() - started) / 1000, requests };
  });
}

if (isMain(import.meta.url)) {
  const out = process.argv.indexOf('--out');
  progress('first visit of a fresh browser, through a counting proxy');
  const figures = await measureFirstVisit();
  console.log(`first visit: ${figures.bytes_on_the_wire} bytes from the origin on the wire, ${figures.requests.length} requests`);
  for (const request of figures.requests) console.log(`  ${request}`);
  if (out > 0) writeFileSync(process.argv[out + 1], JSON.stringify(figures, null, 2));
}
