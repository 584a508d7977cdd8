// Shared set-up for the end-to-end tests: the sample course packed with a fresh school key, a real
// `cartable serve` on a loopback port, and Debian's Chromium driven by playwright-core.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
 * Starts `cartable serve` for `course` on a free port, with its access log on; stops it when the test ends.
 * `extra` are more arguments (e.g. `['--latency', '200']`). `requests` lists what it answered so far, as
 * `{ method, path, status }`.
 */
export async function serve(t, course, extra = []) {
  const args = ['serve', '--course', course.courseDir, '--pubkey', course.pubkey, '--port', '0', '--access-log'];
  const child = spawn(bin, [...args, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = ''; // what is not an access-log line: the server's own messages
  let pending = '';
  const requests = [];
  child.stderr.on('data', (data) => {
    const lines = (pending + data).split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const match = line.match(/^([A-Z]+) (\S+) (\d{3})$/);
      if (match) requests.push({ method: match[1], path: match[2], status: Number(match[3]) });
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
  const chunkRequests = () => requests.filter((r) => r.path.includes('/ipfs/')).map((r) => r.path.split('/').pop());
  return { url, stop, requests, chunkRequests };
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

/** Waits until a service worker controls `page` (the first visit installs it and it claims the page). */
export async function controlledByWorker(page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
}

/** Distinct CIDs of a manifest, in order. */
export function chunksOf(manifest) {
  return [...new Set(manifest.files.flatMap((file) => file.chunks))];
}

/** Launches headless Chromium; closes it when the test ends. */
export async function launch(t) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  return browser;
}

/** A new page that records uncaught errors, so a test can assert the app never crashed. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(url);
  return page;
}
