// Classmates as a CDN, through the reference WebTorrent tracker (npm `bittorrent-tracker`): a class of
// pupils in separate browsers (contexts) saves the course while the course origin is saturated (capacity
// 1, 503 with Retry-After) and there is no mirror; they pass chunks to each other over WebRTC. A classmate
// lying on the wire is set aside for its corrupt data, and nothing it sent is stored. The app's own files
// are spared here (`--spare-app`), so that the class starts together: the whole origin overloaded, with
// the embedded tracker, is `overload.test.mjs`.
// See: issue 5
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { launch, lieOnTheWire, npmTracker, openPage, packSample, readyClassmate, scratch, serve, storedChunks } from './harness.mjs';

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
