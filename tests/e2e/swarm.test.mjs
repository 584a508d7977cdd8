// Classmates as a CDN, through the reference WebTorrent tracker (npm `bittorrent-tracker`): a class of
// pupils in separate browsers (contexts) saves the course while the course origin is saturated (capacity
// 1, 503 with Retry-After) and there is no mirror; they pass chunks to each other over WebRTC. A classmate
// lying on the wire is set aside for its corrupt data, and nothing it sent is stored. The app's own files
// are spared here (`--spare-app`), so that the class starts together: the whole origin overloaded, with
// the embedded tracker, is `overload.test.mjs`. With the origin gone, a classmate passes on the newer
// signed manifest to a pupil who holds an older version.
// See: issue 5
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  controlledByWorker, launch, lieOnTheWire, npmTracker, openPage, packSample, readyClassmate, repack, root, scratch, serve,
  storedChunks,
} from './harness.mjs';

const SAVE_BUTTON = 'Enregistrer pour consulter hors ligne';
const SAVED_TEXT = 'Ce cours est disponible hors ligne.';
const STUDENTS = Number(process.env.CARTABLE_CLASS_SIZE ?? 8);

test(`${STUDENTS} pupils save the course from each other through the npm bittorrent-tracker; a liar is set aside`, async (t) => {
  const tracker = await npmTracker(t);
  const course = packSample(scratch(t));
  const origin = await serve(t, course, ['--max-concurrent', '1', '--retry-after', '2', '--spare-app', '--tracker', tracker.url]);
  const browser = await launch(t);
  const chunkSize = (cid) => statSync(join(course.courseDir, 'ipfs', cid)).size;
  const distinct = [...new Set(course.manifest.files.flatMap((f) => f.chunks))];
  const courseBytes = distinct.reduce((sum, cid) => sum + chunkSize(cid), 0);

  // The malicious classmate: the real app, saved alone, whose data channels then corrupt what it sends.
  const liar = await readyClassmate(browser, origin.url, { init: lieOnTheWire });
  const before = origin.requests.length;

  const started = Date.now();
  const pupils = await Promise.all(Array.from({ length: STUDENTS }, () => openPage(browser, origin.url)));
  await Promise.all(pupils.map(async (page) => {
    await page.getByRole('button', { name: SAVE_BUTTON }).click();
    await page.getByText(SAVED_TEXT).waitFor({ timeout: 240_000 });
  }));
  const seconds = (Date.now() - started) / 1000;

  const courseChunk = (r) => r.status === 200 && r.path.startsWith('/courses/') && r.path.includes('/ipfs/');
  const served = origin.requests.slice(before).filter(courseChunk)
    .reduce((sum, r) => sum + chunkSize(r.path.split('/ipfs/')[1]), 0);
  const truth = Object.fromEntries(distinct.map((cid) =>
    [cid, createHash('sha256').update(readFileSync(join(course.courseDir, 'ipfs', cid))).digest('hex')]));
  let banned = 0;
  for (const page of pupils) {
    const stored = await storedChunks(page);
    for (const cid of distinct) assert.equal(stored[cid], truth[cid], `chunk ${cid} is the true chunk`);
    await page.locator('details.sources summary').click();
    const classmates = await page.locator('details.sources li').filter({ hasText: 'Camarades' }).innerText();
    if (/écartés : ont envoyé des données corrompues/.test(classmates)) banned += 1;
    assert.deepEqual(page.errors, []);
  }
  t.diagnostic(`${STUDENTS} pupils in ${seconds.toFixed(1)} s; origin served ${(served / courseBytes).toFixed(2)} ` +
    `× the course (${served} of ${courseBytes} bytes); ${banned} pupils set the liar aside`);
  assert.ok(served <= 1.5 * courseBytes, `origin served ${served} bytes for a ${courseBytes}-byte course`);
  assert.ok(banned >= 1, 'at least one pupil met the liar and set it aside for its corrupt data');
  assert.deepEqual(liar.errors, []);
});

test('with the origin gone, a classmate passes on the newer signed manifest and the page opens at it', async (t) => {
  const tracker = await npmTracker(t);
  const dir = scratch(t);
  const source = join(dir, 'source');
  cpSync(join(root, 'sample/physique-3e'), source, { recursive: true });
  const v1 = packSample(dir, source);
  const origin = await serve(t, v1, ['--tracker', tracker.url]);
  const browser = await launch(t);

  // A pupil saves version 1 yesterday and closes the page; the teacher then adds to a lesson and
  // publishes version 2.
  const yesterday = await readyClassmate(browser, origin.url);
  await controlledByWorker(yesterday);
  const device = yesterday.context();
  await yesterday.close();
  const added = 'Ajout du jour : la loi d’Ohm vaut pour les conducteurs ohmiques seulement.';
  appendFileSync(join(source, 'lessons/02-loi-d-ohm.md'), `\n${added}\n`);
  const v2 = repack(v1);
  assert.ok(v2.manifest.version > v1.manifest.version);
  // A classmate saves version 2 this morning; then the origin goes away, and the first pupil comes back.
  const early = await readyClassmate(browser, origin.url);
  await origin.stop();
  const late = await device.newPage();
  late.errors = [];
  late.on('pageerror', (error) => late.errors.push(error.message));
  await late.goto(origin.url);
  await late.getByText('Hors ligne : copie du').waitFor();
  await late.getByText('Une version plus récente du cours vous est parvenue par un camarade.').waitFor({ timeout: 60_000 });
  const stored = await late.evaluate(() => new Promise((done, failed) => {
    const open = indexedDB.open('cartable');
    open.onerror = () => failed(open.error);
    open.onsuccess = () => {
      const request = open.result.transaction('manifests').objectStore('manifests').getAll();
      request.onsuccess = () => done(request.result.map((copy) => Number(copy.version)));
    };
  }));
  assert.deepEqual(stored, [v2.manifest.version], 'the newer manifest is verified and stored in place of the older');

  await late.getByRole('button', { name: "L'afficher" }).click();
  await late.getByText('Une version plus récente du cours').waitFor({ state: 'detached' });
  await late.getByRole('link', { name: /loi d'Ohm/i }).first().click();
  await late.getByText(added).waitFor({ timeout: 60_000 });
  assert.deepEqual(late.errors, []);
  assert.deepEqual(early.errors, []);
});
