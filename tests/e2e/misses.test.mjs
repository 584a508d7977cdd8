// The service worker hands the misses it cannot fill over HTTP to the tab that leads the swarm (WebRTC does
// not exist in a service worker): with the origin gone, or sending corrupted bytes, pupil B's worker still
// serves an audio file it never stored, from pupil A's browser over WebRTC through B's leading tab, checks
// every chunk and keeps it; with no classmate, it takes it from the page's mirror. It trusts no tab: bytes
// that do not match are neither served nor kept. With a leading tab that finds no classmate holding the
// chunk, the worker answers 504 once the tab gives up; with no tab leading, at once.
// See: issue 5
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  cartableTracker, controlledByWorker, launch, mirror, nginxMirror, openPage, packSample, root, scratch, serve,
  storedChunks,
} from './harness.mjs';

const SAVE_BUTTON = 'Enregistrer pour consulter hors ligne';
const SAVED_TEXT = 'Ce cours est disponible hors ligne.';
const AUDIO = 'audio/resume-lecon-1.wav';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** A pupil's browser (its own context: its own storage, worker and swarm lock) with the course open. */
async function pupil(browser, url) {
  const page = await openPage(browser, url);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return page;
}

/** Waits until `page` is connected to a classmate, as its sources panel says (it redraws every second). */
async function connectedToAClassmate(page) {
  await page.waitForFunction(() => /\b1 connectés/.test(document.querySelector('details.sources')?.textContent ?? ''),
    null, { timeout: 30_000 });
}

/**
 * Fetches the course file `path` in `page` where the worker serves it (`Course::worker_url`: next to the
 * manifest the config block names). Returns its status, the sha-256 of its body and how long it took.
 */
async function fetchFromWorker(page, courseId, path) {
  return page.evaluate(async ({ courseId, path }) => {
    const config = JSON.parse(document.getElementById('cartable-config').textContent);
    const url = new URL(`cartable-files/${courseId}/${path}`, new URL(config.manifest, location.href));
    const started = performance.now();
    const response = await fetch(url);
    const body = new Uint8Array(await response.arrayBuffer());
    const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', body))];
    return {
      status: response.status,
      sha256: digest.map((b) => b.toString(16).padStart(2, '0')).join(''),
      ms: performance.now() - started,
    };
  }, { courseId, path });
}

test("with the origin gone, the worker serves an audio file from a classmate, through the leading tab", async (t) => {
  const course = packSample(scratch(t));
  // A tracker of its own, so that classmates still find each other once the origin is gone.
  const tracker = await cartableTracker(t);
  const origin = await serve(t, course, ['--tracker', tracker.url]);
  const browser = await launch(t);

  const a = await pupil(browser, origin.url);
  await a.getByRole('button', { name: SAVE_BUTTON }).click();
  await a.getByText(SAVED_TEXT).waitFor({ timeout: 120_000 });

  const b = await pupil(browser, origin.url);
  await controlledByWorker(b);
  // The classmates have met (under load that can take a while) before the origin goes.
  await connectedToAClassmate(b);
  await origin.stop();

  const answer = await fetchFromWorker(b, course.manifest.course.id, AUDIO);
  const wav = readFileSync(join(root, 'sample/physique-3e', AUDIO));
  assert.equal(answer.status, 200);
  assert.equal(answer.sha256, sha256(wav), 'the bytes of the file');
  t.diagnostic(`${wav.length} bytes from a classmate in ${(answer.ms / 1000).toFixed(1)} s`);

  const cids = course.manifest.files.find((file) => file.path === AUDIO).chunks;
  const truth = Object.fromEntries(cids.map((cid) => [cid, sha256(readFileSync(join(course.courseDir, 'ipfs', cid)))]));
  assert.deepEqual(await storedChunks(b, cids), truth, "B's browser keeps the chunks");
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
});

test('with the origin sending corrupted bytes, the worker serves the audio file from a classmate', async (t) => {
  const course = packSample(scratch(t));
  const tracker = await cartableTracker(t);
  const healthy = await serve(t, course, ['--tracker', tracker.url]);
  const cids = course.manifest.files.find((file) => file.path === AUDIO).chunks;
  // B's origin alters every chunk of the audio file; A saved the course from a healthy one.
  const corrupting = await serve(t, course, ['--tracker', tracker.url, ...cids.flatMap((cid) => ['--corrupt', cid])]);
  const browser = await launch(t);
  const a = await pupil(browser, healthy.url);
  await a.getByRole('button', { name: SAVE_BUTTON }).click();
  await a.getByText(SAVED_TEXT).waitFor({ timeout: 120_000 });

  const b = await pupil(browser, corrupting.url);
  await controlledByWorker(b);
  await connectedToAClassmate(b);
  const answer = await fetchFromWorker(b, course.manifest.course.id, AUDIO);
  assert.equal(answer.status, 200);
  assert.equal(answer.sha256, sha256(readFileSync(join(root, 'sample/physique-3e', AUDIO))));
  for (const cid of cids) assert.ok(corrupting.chunkRequests().includes(cid), 'the origin was asked first');
  const truth = Object.fromEntries(cids.map((cid) => [cid, sha256(readFileSync(join(course.courseDir, 'ipfs', cid)))]));
  assert.deepEqual(await storedChunks(b, cids), truth, 'only the true chunks are kept');
  assert.deepEqual(b.errors, []);
});

// See: issue 15
test('with the origin gone and no classmate, the worker serves the audio file from the page\'s mirror', async (t) => {
  const course = packSample(scratch(t));
  const good = await nginxMirror(t, mirror(t, course));
  const origin = await serve(t, course, ['--no-tracker', '--mirror', good.url]);
  const page = await pupil(await launch(t), origin.url);
  await controlledByWorker(page);
  await origin.stop();

  const answer = await fetchFromWorker(page, course.manifest.course.id, AUDIO);
  assert.equal(answer.status, 200);
  assert.equal(answer.sha256, sha256(readFileSync(join(root, 'sample/physique-3e', AUDIO))));
  const cids = course.manifest.files.find((file) => file.path === AUDIO).chunks;
  const fromMirror = good.requests().filter((r) => r.status === 200).map((r) => r.path.split('/ipfs/')[1]?.split('?')[0]);
  for (const cid of cids) assert.ok(fromMirror.includes(cid), `chunk ${cid} came from the mirror`);
  const truth = Object.fromEntries(cids.map((cid) => [cid, sha256(readFileSync(join(course.courseDir, 'ipfs', cid)))]));
  assert.deepEqual(await storedChunks(page, cids), truth, 'and is kept');
  assert.deepEqual(page.errors, []);
});

test('the worker checks what a tab hands it: bytes that do not match the CID are neither served nor kept', async (t) => {
  const course = packSample(scratch(t));
  const origin = await serve(t, course, ['--no-tracker']);
  const page = await pupil(await launch(t), origin.url);
  await controlledByWorker(page);
  await origin.stop();
  // A script of the page poses as the leading tab and answers every miss with zeros of the right length.
  await page.evaluate(async (name) => {
    window.misses = [];
    await new Promise((granted) => navigator.locks.request(name, () => { granted(); return new Promise(() => {}); }));
    const channel = new BroadcastChannel(name);
    channel.onmessage = ({ data }) => {
      window.misses.push(data);
      channel.postMessage({ miss: data, chunk: new Uint8Array(Number(data.split(' ')[1])) });
    };
  }, `cartable-swarm:${course.manifest.course.id}`);

  const answer = await fetchFromWorker(page, course.manifest.course.id, AUDIO);
  assert.equal(answer.status, 504);
  const file = course.manifest.files.find((f) => f.path === AUDIO);
  const first = Math.min(file.size, course.manifest.chunk_size);
  assert.deepEqual(await page.evaluate(() => window.misses), [`${file.chunks[0]} ${first}`]);
  assert.deepEqual(await storedChunks(page, file.chunks), {}, 'nothing was kept');
  assert.deepEqual(page.errors, []);
});

test('a leading tab with no classmate holding the chunk: the worker answers 504 once the tab gives up', async (t) => {
  const course = packSample(scratch(t));
  const tracker = await cartableTracker(t);
  const origin = await serve(t, course, ['--tracker', tracker.url]);
  const page = await pupil(await launch(t), origin.url);
  await controlledByWorker(page);
  // The tab leads the course's swarm (its part loaded, once the page held what it shows).
  const leads = () => page.evaluate(async () => (await navigator.locks.query()).held.length > 0);
  for (let waited = 0; !(await leads()); waited += 250) {
    assert.ok(waited < 30_000, 'the tab leads the swarm');
    await page.waitForTimeout(250);
  }
  await origin.stop();

  const answer = await fetchFromWorker(page, course.manifest.course.id, AUDIO);
  assert.equal(answer.status, 504);
  // The tab waits 10 s for a classmate to hold the chunk; the worker would wait 15 s for its answer.
  assert.ok(answer.ms > 8_000 && answer.ms < 14_000, `answered after ${answer.ms} ms`);
  assert.deepEqual(page.errors, []);
});

test('with no tab leading a swarm, the worker answers 504 at once', async (t) => {
  const course = packSample(scratch(t));
  const origin = await serve(t, course, ['--no-tracker']);
  const page = await pupil(await launch(t), origin.url);
  await controlledByWorker(page);
  await origin.stop();

  const answer = await fetchFromWorker(page, course.manifest.course.id, AUDIO);
  assert.equal(answer.status, 504);
  assert.ok(answer.ms < 3_000, `answered after ${answer.ms} ms`);
  assert.deepEqual(page.errors, []);
});
