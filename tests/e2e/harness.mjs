// Shared set-up for the end-to-end tests: the sample course packed with a fresh school key, a real
// `cartable serve` on a loopback port, a real nginx serving a mirror, and Debian's Chromium driven by
// playwright-core.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.CARTABLE_BIN ?? join(root, 'target/debug/cartable');

/** Runs the real `cartable` binary and returns its standard output. */
export function cartable(...args) {
  return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A scratch folder removed when the test ends. */
export function scratch(t) {
  const dir = mkdtempSync(join(tmpdir(), 'cartable-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Packs the course folder `source` (the bundled sample by default) with a new key into `dir/course`. */
export function packSample(dir, source = join(root, 'sample/physique-3e')) {
  cartable('keygen', join(dir, 'school'));
  const course = { dir, source, courseDir: join(dir, 'course'), pubkey: join(dir, 'school.pub') };
  return repack(course);
}

/**
 * Packs a copy of the bundled sample whose `course.toml` ends with `toml` (such as a `[peers]` table)
 * with a new key into a scratch folder; returns it as `packSample` does.
 */
export function packSampleWith(t, toml) {
  const dir = scratch(t);
  const source = join(dir, 'source');
  cpSync(join(root, 'sample/physique-3e'), source, { recursive: true });
  appendFileSync(join(source, 'course.toml'), `\n${toml}`);
  return packSample(dir, source);
}

/** Packs `course.source` again, with the same key and into the same folder: a new version. */
export function repack(course) {
  cartable('pack', course.source, '--key', join(course.dir, 'school.secret'), '--out', course.courseDir);
  const manifest = JSON.parse(readFileSync(join(course.courseDir, 'manifest.json'), 'utf8')).manifest;
  return { ...course, manifest };
}

/** The chunk file holding chunk `index` of the course file `path`. */
export function chunkFile(course, path, index = 0) {
  const file = course.manifest.files.find((f) => f.path === path);
  if (!file) throw new Error(`${path} is not in the manifest`);
  return join(course.courseDir, 'ipfs', file.chunks[index]);
}

/** Overwrites bytes of `file` in place with `marker`, keeping its length: only the hash can tell. */
export function tamper(file, marker, offset = 64) {
  const bytes = readFileSync(file);
  bytes.write(marker, offset, 'latin1');
  writeFileSync(file, bytes);
}

/**
 * Starts `cartable serve` for `course` on a free port (or the `--port` given in `extra`), with its access
 * log on; stops it when the test ends. `extra` are more arguments (e.g. `['--latency', '200']`).
 * `requests` lists what it answered so far, as `{ method, path, status, bytes, at }` (`bytes`: the body
 * as sent, compressed or not; `at`: when the log line was read, in `Date.now()` milliseconds).
 */
export async function serve(t, course, extra = []) {
  const port = extra.includes('--port') ? [] : ['--port', '0'];
  const args = ['serve', '--course', course.courseDir, '--pubkey', course.pubkey, ...port, '--access-log'];
  const child = spawn(bin, [...args, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = ''; // what is not an access-log line: the server's own messages
  let pending = '';
  const requests = [];
  child.stderr.on('data', (data) => {
    const lines = (pending + data).split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const match = line.match(/^([A-Z]+) (\S+) (\d{3}) (\d+)$/);
      if (match) requests.push({ method: match[1], path: match[2], status: Number(match[3]), bytes: Number(match[4]), at: Date.now() });
      else stderr += `${line}\n`;
    }
  });
  const exited = new Promise((done) => child.once('exit', done));
  const stop = async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } };
  t.after(stop);
  const url = await new Promise((found, failed) => {
    let stdout = '';
    const timer = setTimeout(() => failed(new Error(`cartable serve did not start: ${stderr}`)), 20_000);
    child.stdout.on('data', (data) => {
      stdout += data;
      const match = stdout.match(/^cartable serve: (http:\/\/\S+)$/m);
      if (match) { clearTimeout(timer); found(match[1]); }
    });
    child.once('exit', () => failed(new Error(`cartable serve exited: ${stderr}`)));
  });
  // The course's chunks (the app's own, under /pkg/ipfs/, are the shell's).
  const chunkRequests = () => requests.filter((r) => r.path.startsWith('/courses/') && r.path.includes('/ipfs/'))
    .map((r) => r.path.split('/').pop());
  return { url, stop, requests, chunkRequests };
}

/** Exports `course` (from packSample) with the real `cartable mirror` into a scratch folder; returns it. */
export function mirror(t, course) {
  const out = join(scratch(t), 'mirror');
  cartable('mirror', course.courseDir, '--out', out, '--pubkey', course.pubkey);
  return out;
}

/**
 * The app as a school hosts it on any static host or CDN: a copy of `www/` and the built `pkg/` (with its
 * chunks and compressed copies) in a scratch folder, `index.html`'s configuration block filled with
 * `config` (manifest and key, mirrors...). Serve the folder with `nginxMirror`, which sends the gzip copies.
 */
export function staticApp(t, config) {
  const dir = join(scratch(t), 'app');
  cpSync(join(root, 'www'), dir, { recursive: true });
  cpSync(join(root, 'pkg'), join(dir, 'pkg'), { recursive: true });
  const page = join(dir, 'index.html');
  const html = readFileSync(page, 'utf8').replace(
    /(<script type="application\/json" id="cartable-config">)[\s\S]*?(<\/script>)/,
    (_, open, close) => `${open}${JSON.stringify(config)}${close}`,
  );
  writeFileSync(page, html);
  return dir;
}

/** A loopback port nothing listens on right now. */
export async function freePort() {
  const server = createServer();
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address();
  await new Promise((closed) => server.close(closed));
  return port;
}

/** An nginx configuration serving `dir` on `port`, everything it writes kept in `work`. */
function nginxConfig(work, dir, port, cors) {
  const inside = (name) => JSON.stringify(join(work, name));
  const headers = cors
    ? `add_header Access-Control-Allow-Origin "*" always;
      add_header Access-Control-Expose-Headers "Content-Length" always;`
    : '';
  return `daemon off;
master_process off;
worker_processes 1;
pid ${inside('nginx.pid')};
error_log ${inside('error.log')} warn;
events { worker_connections 256; }
http {
  types {
    application/json json; text/html html; text/css css; text/javascript js; application/wasm wasm;
  }
  default_type application/octet-stream;
  log_format cartable '$request_method $uri $status $body_bytes_sent';
  access_log ${inside('access.log')} cartable;
  client_body_temp_path ${inside('client_body')};
  proxy_temp_path ${inside('proxy')};
  fastcgi_temp_path ${inside('fastcgi')};
  uwsgi_temp_path ${inside('uwsgi')};
  scgi_temp_path ${inside('scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${JSON.stringify(dir)};
    location / {
      # The app's chunks come with their gzip copies (\`cartable mirror\`): sent as they are to a
      # browser that accepts gzip, compressed once, by the build.
      gzip_static on;
      ${headers}
    }
  }
}
`;
}

/**
 * Serves the folder `dir` (a mirror tree from `mirror`) with Debian's nginx on a free loopback port,
 * sending `Access-Control-Allow-Origin: *` unless `cors` is false, and the build's gzip copies of the
 * app's chunks; stops it when the test ends. Returns `{ url, requests }`: `url` ends with `/`;
 * `requests()` lists what nginx answered so far, as `{ method, path, status, bytes }` (the path without
 * its query, `bytes` the body as sent).
 */
export async function nginxMirror(t, dir, { cors = true } = {}) {
  const work = scratch(t);
  const port = await freePort();
  const conf = join(work, 'nginx.conf');
  writeFileSync(conf, nginxConfig(work, resolve(dir), port, cors));
  const nginx = process.env.NGINX ?? '/usr/sbin/nginx';
  const child = spawn(nginx, ['-p', work, '-c', conf, '-e', join(work, 'error.log')], { stdio: 'ignore' });
  const exited = new Promise((done) => child.once('exit', done));
  t.after(async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } });
  const url = `http://127.0.0.1:${port}/`;
  const probe = '.cartable-probe';
  const errors = () => (existsSync(join(work, 'error.log')) ? readFileSync(join(work, 'error.log'), 'utf8') : '');
  for (let waited = 0; ; waited += 50) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${errors()}`);
    if (waited > 10_000) throw new Error(`nginx did not answer on ${url}: ${errors()}`);
    try { await fetch(url + probe, { method: 'HEAD' }); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  const log = join(work, 'access.log');
  const requests = () => readFileSync(log, 'utf8').split('\n').flatMap((line) => {
    const match = line.match(/^([A-Z]+) (\S+) (\d{3}) (\d+)$/);
    // The readiness probes are not the test's requests.
    return match && match[2] !== `/${probe}` ? [{ method: match[1], path: match[2], status: Number(match[3]), bytes: Number(match[4]) }] : [];
  });
  return { url, requests };
}

/**
 * Serves `course` (the sample course, packed anew, by default) with `extra` server arguments, and opens
 * `hash` in a fresh browser context once a service worker controls the page. For offline scenarios.
 */
export async function visitWithWorker(t, { course, hash = '', extra = [] } = {}) {
  const packed = course ?? packSample(scratch(t));
  const server = await serve(t, packed, extra);
  const context = await (await launch(t)).newContext();
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(server.url + hash);
  await controlledByWorker(page);
  return { course: packed, server, context, page };
}

/**
 * `visitWithWorker` of the sample course served with a copy of the built app of its own (`www/`,
 * `pkg/`, returned with the visit), so that a test can publish a new build of it (`cartable shell`).
 */
export async function visitOwnBuild(t, { hash = '' } = {}) {
  const dir = scratch(t);
  const course = packSample(dir);
  const [www, pkg] = [join(dir, 'www'), join(dir, 'pkg')];
  cpSync(join(root, 'www'), www, { recursive: true });
  cpSync(join(root, 'pkg'), pkg, { recursive: true });
  const visit = await visitWithWorker(t, { course, hash, extra: ['--www', www, '--pkg', pkg] });
  return { ...visit, www, pkg };
}

/** Waits until a service worker controls `page` (the first visit installs it and it claims the page). */
export async function controlledByWorker(page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
}

/**
 * Has the worker build waiting in `page`'s browser take over (as the page's "Recharger" does) and waits
 * until it runs: the build listed in `pkg/shell.json` of `pkg`, whose cached wasm is then the only one.
 */
export async function takeNewBuild(page, pkg) {
  const build = JSON.parse(readFileSync(join(pkg, 'shell.json'), 'utf8')).build;
  const taken = () => page.evaluate(async (build) => {
    (await navigator.serviceWorker.getRegistration())?.waiting?.postMessage('cartable:activate-new-version');
    return (await caches.keys()).join() === `cartable-sw-${build}`;
  }, build);
  for (let waited = 0; !(await taken()); waited += 500) {
    assert.ok(waited < 60_000, `build ${build} never took over`);
    await page.waitForTimeout(500);
  }
}

/**
 * The chunks the page's browser stores (IndexedDB `cartable`, store `chunks`), as `cid → hex sha-256 of
 * the stored bytes`: those of `cids`, or every one when `cids` is not given. Missing chunks are left out.
 */
export async function storedChunks(page, cids = null) {
  return page.evaluate(async (cids) => {
    const db = await new Promise((ok, ko) => {
      const open = indexedDB.open('cartable');
      open.onsuccess = () => ok(open.result);
      open.onerror = () => ko(open.error);
    });
    const ask = (call, ...args) => new Promise((ok, ko) => {
      const request = db.transaction('chunks').objectStore('chunks')[call](...args);
      request.onsuccess = () => ok(request.result);
      request.onerror = () => ko(request.error);
    });
    const out = {};
    for (const cid of cids ?? await ask('getAllKeys')) {
      const value = await ask('get', cid);
      if (!value) continue;
      const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(value));
      out[cid] = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    }
    db.close();
    return out;
  }, cids);
}

/** Distinct CIDs of a manifest, in order. */
export function chunksOf(manifest) {
  return [...new Set(manifest.files.flatMap((file) => file.chunks))];
}

/**
 * Launches headless Chromium in French; closes it when the test ends. WebRTC between its contexts runs over
 * loopback, with plain host addresses (no mDNS names, which nothing resolves here).
 */
export async function launch(t) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // French pupils' browsers: the app follows the browser's language (a context may set another locale).
    args: ['--accept-lang=fr-FR,fr', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'],
  });
  t.after(() => browser.close());
  return browser;
}

/**
 * A new page in a context of its own (its own storage, worker and swarm lock: another pupil's browser),
 * recording uncaught errors so that a test can assert the app never crashed.
 */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(url);
  return page;
}

/**
 * The reference WebTorrent tracker: the npm `bittorrent-tracker` Server, WebSocket only, on a free
 * loopback port; closed when the test ends. Returns `{ url }` (`ws://127.0.0.1:<port>`).
 */
export async function npmTracker(t) {
  // The server entry point only: the package's main one loads the client's WebRTC, a native module whose
  // install script `npm ci --ignore-scripts` does not run.
  const { default: Server } = await import('bittorrent-tracker/server');
  const server = new Server({ udp: false, http: false, ws: true, stats: false });
  // The npm server reports bad client input as warnings; a test sees them in its replies instead.
  server.on('warning', () => {});
  await new Promise((listening, failed) => {
    server.once('error', failed);
    server.listen(0, '127.0.0.1', listening);
  });
  // Closing waits for every WebSocket to close, and browsers may still hold theirs: 2 s at most.
  t.after(() => new Promise((closed) => {
    server.close(closed);
    setTimeout(closed, 2000).unref();
  }));
  return { url: `ws://127.0.0.1:${server.ws.address().port}` };
}

/**
 * The real `cartable tracker --port 0`, stopped when the test ends. Returns `{ url, summary }`: `url` comes
 * from its first line; `summary()` stops it and resolves to what it printed on standard error.
 */
export async function cartableTracker(t) {
  const child = spawn(bin, ['tracker', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data) => { stderr += data; });
  const exited = new Promise((done) => child.once('exit', done));
  const summary = async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } return stderr; };
  t.after(summary);
  const url = await new Promise((found, failed) => {
    let stdout = '';
    const timer = setTimeout(() => failed(new Error(`cartable tracker did not start: ${stderr}`)), 20_000);
    child.stdout.on('data', (data) => {
      stdout += data;
      const match = stdout.match(/^cartable tracker: (ws:\/\/\S+)$/m);
      if (match) { clearTimeout(timer); found(match[1]); }
    });
    child.once('exit', () => failed(new Error(`cartable tracker exited: ${stderr}`)));
  });
  return { url, summary };
}

/**
 * Debian's coturn as the school's TURN relay on 127.0.0.1 (UDP and TCP on a free port, relaying between
 * loopback addresses, which a real relay must refuse), with one user; stopped when the test ends.
 * Returns `{ url, username, credential, log }`: `log()` is what it printed so far.
 */
export async function turnRelay(t) {
  const work = scratch(t);
  const port = await freePort();
  const [username, credential] = ['pupil', 'cartable-test'];
  // Each offer and answer holds a relay allocation: room for a class of pages.
  const relayPorts = 50000 + (port % 50) * 200;
  const args = ['-n', '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--relay-ip=127.0.0.1',
    `--min-port=${relayPorts}`, `--max-port=${relayPorts + 199}`, '--lt-cred-mech', `--user=${username}:${credential}`,
    '--realm=cartable.test', '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--log-file=stdout',
    '--simple-log', `--pidfile=${join(work, 'turnserver.pid')}`, `--db=${join(work, 'turndb.sqlite')}`];
  const child = spawn(process.env.TURNSERVER ?? 'turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data) => { output += data; });
  child.stderr.on('data', (data) => { output += data; });
  const exited = new Promise((done) => child.once('exit', done));
  t.after(async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } });
  await new Promise((ready, failed) => {
    const timer = setTimeout(() => failed(new Error(`turnserver did not start: ${output}`)), 10_000);
    const watch = setInterval(() => {
      if (/Total General servers/.test(output)) { clearTimeout(timer); clearInterval(watch); ready(); }
    }, 50);
    child.once('error', (error) => { clearTimeout(timer); clearInterval(watch); failed(error); });
    child.once('exit', () => { clearTimeout(timer); clearInterval(watch); failed(new Error(`turnserver exited: ${output}`)); });
  });
  return { url: `turn:127.0.0.1:${port}`, username, credential, log: () => output };
}

/**
 * An init script for a classmate that lies on the wire: its app is honest, but its data channels flip the
 * last byte of every piece it sends, so each chunk it gives fails its CID.
 */
export function lieOnTheWire() {
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (data) {
    if (data instanceof Uint8Array && data.length > 1000) {
      data = Uint8Array.from(data);
      data[data.length - 1] ^= 0x5a;
    }
    return send.call(this, data);
  };
}

/** Overwrites every chunk `page`'s browser stores with bytes of the same length that no longer match their CID. */
export async function spoilStoredChunks(page) {
  await page.evaluate(async () => {
    const db = await new Promise((ok, ko) => {
      const open = indexedDB.open('cartable');
      open.onsuccess = () => ok(open.result);
      open.onerror = () => ko(open.error);
    });
    const store = db.transaction('chunks', 'readwrite').objectStore('chunks');
    await new Promise((ok, ko) => {
      const cursor = store.openCursor();
      cursor.onsuccess = () => {
        const at = cursor.result;
        if (!at) return ok();
        const bytes = new Uint8Array(at.value);
        for (let i = 0; i < bytes.length; i += 97) bytes[i] ^= 0x5a;
        at.update(bytes);
        at.continue();
      };
      cursor.onerror = () => ko(cursor.error);
    });
    db.close();
  });
}

/**
 * A classmate ready before the class, in a browser context of its own with `init` (an init script) if
 * given: it opened `url` and saved the course alone.
 */
export async function readyClassmate(browser, url, { init } = {}) {
  const context = await browser.newContext();
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(url);
  await page.getByRole('button', { name: /Enregistrer pour consulter hors ligne|Reprendre l'enregistrement/ }).click({ timeout: 300_000 });
  await page.getByText('Ce cours est disponible hors ligne.').waitFor({ timeout: 300_000 });
  return page;
}

/**
 * Runs axe-core (npm) over the page as it is now and returns its `serious` and `critical` violations,
 * each as `{ id, impact, help, targets }`; prints them when there are any. `page` may also be a frame
 * (an embedded app is audited inside its iframe). Every page type of the app goes through this in
 * `a11y.test.mjs`.
 */
export async function auditAccessibility(page, label = page.url()) {
  // Evaluated rather than added as a script tag, which the app's Content-Security-Policy would refuse.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource());
  const { violations, passes } = await page.evaluate(async () => {
    const { violations, passes } = await window.axe.run(document, { resultTypes: ['violations'], iframes: false });
    const found = violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
    return { violations: found, passes: passes.length };
  });
  if (passes === 0) throw new Error(`axe checked nothing on ${label}`);
  const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of grave) console.log(`[axe] ${label}: ${v.impact} ${v.id} (${v.help}) at ${v.targets.slice(0, 5).join(', ')}`);
  return grave;
}

let axe = null;
function axeSource() {
  axe ??= readFileSync(join(root, 'tests/e2e/node_modules/axe-core/axe.min.js'), 'utf8');
  return axe;
}
