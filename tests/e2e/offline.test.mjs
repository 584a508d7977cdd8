// Offline first: the service worker keeps the app and the course in IndexedDB, so a visited course opens
// with no network, saving resumes after a reload, updates fetch only new chunks, and media seek offline.
// See: issue 3
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cartable, chunksOf, packSample, repack, root, scratch, takeNewBuild, visitOwnBuild, visitWithWorker } from './harness.mjs';

const LESSON_ONE_TEXT = 'Pendant la fermeture du collège';
const SAVE = /Enregistrer pour consulter hors ligne|Reprendre l'enregistrement/;
const SAVED = 'Ce cours est disponible hors ligne.';

/**
 * A course saved for offline use, whose teacher then adds `addition` to the lesson file `name` and
 * publishes again (not yet seen by the page). `fresh` lists the CIDs the new version adds.
 */
async function savedThenEdited(t, name, addition) {
  const dir = scratch(t);
  const source = join(dir, 'source');
  cpSync(join(root, 'sample/physique-3e'), source, { recursive: true });
  const v1 = packSample(dir, source);
  const visit = await visitWithWorker(t, { course: v1 });
  await saveForOffline(visit.page);
  const lesson = join(source, 'lessons', name);
  writeFileSync(lesson, `${readFileSync(lesson, 'utf8')}\n${addition}\n`);
  const v2 = repack(v1);
  const fresh = chunksOf(v2.manifest).filter((cid) => !chunksOf(v1.manifest).includes(cid));
  return { ...visit, fresh };
}

async function saveForOffline(page) {
  await page.getByRole('button', { name: SAVE }).click();
  await page.getByText(SAVED).waitFor({ timeout: 60_000 });
}

test('a first visit takes each file of the app once: the page, the worker, one GET per shell chunk', async (t) => {
  const { server, page, course } = await visitWithWorker(t);
  await page.getByRole('heading', { level: 1, name: course.manifest.course.title }).waitFor();
  const shell = JSON.parse(readFileSync(join(root, 'pkg/shell.json'), 'utf8'));
  const chunks = [...new Set([...shell.files, shell.worker].flatMap((file) => file.chunks))];
  const app = server.requests.filter((r) => r.method === 'GET' && !r.path.startsWith('/courses/'));
  const times = (path) => app.filter((r) => r.path === path).length;
  for (const cid of chunks) assert.equal(times(`/pkg/ipfs/${cid}`), 1, `shell chunk ${cid} asked once`);
  for (const path of ['/', '/sw.js', '/pkg/cartable_sw.js']) assert.equal(times(path), 1, `${path} asked once`);
  // Nothing else of the app comes from the origin: the page starts it from the worker's verified copy.
  const others = app.filter((r) => !r.path.startsWith('/pkg/ipfs/') && !['/', '/sw.js', '/pkg/cartable_sw.js'].includes(r.path));
  assert.deepEqual(others.map((r) => `${r.path} ${r.status}`), []);
  assert.ok(app.every((r) => r.status === 200), app.map((r) => `${r.path} ${r.status}`).join(', '));
});

test('a visited lesson opens with no network, with the date of its copy', async (t) => {
  const { server, context, page } = await visitWithWorker(t, { hash: '#/lecon/1' });
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  // A picture is shown once its chunks are verified and stored.
  await page.locator('article img').first().waitFor();

  await context.setOffline(true);
  await page.reload();
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  assert.match(await page.getByRole('status').filter({ hasText: 'Hors ligne' }).innerText(), /Hors ligne : copie du \w+ \d+(er)? \S+ \d{4}\./);
  await page.locator('article img').first().waitFor();

  // The origin itself going away is the same to the pupil.
  await context.setOffline(false);
  await server.stop();
  await page.reload();
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  await page.getByText('Hors ligne : copie du').waitFor();
});

test('saving for offline resumes after a reload and fetches no chunk twice', async (t) => {
  // A slow origin, so that the reload lands in the middle of saving.
  const { course, server, page } = await visitWithWorker(t, { extra: ['--latency', '250'] });

  await page.getByRole('button', { name: 'Enregistrer pour consulter hors ligne' }).click();
  await page.waitForFunction(() => {
    const bar = document.querySelector('.save-progress progress');
    return bar && Number(bar.value) > 0 && Number(bar.value) < Number(bar.max) / 2;
  });
  await page.reload();
  await page.getByRole('button', { name: "Reprendre l'enregistrement" }).waitFor();
  const partly = await page.locator('.save-progress progress').evaluate((bar) => Number(bar.value));
  assert.ok(partly > 0, 'what was saved before the reload is still saved');
  await saveForOffline(page);

  const requested = server.chunkRequests();
  const all = chunksOf(course.manifest);
  assert.deepEqual(new Set(requested), new Set(all), 'every chunk was fetched');
  // Saving asks for one chunk at a time: at most the one in flight at the reload is asked for again.
  assert.ok(requested.length - all.length <= 1, `${requested.length - all.length} chunks fetched twice`);
  assert.deepEqual(page.errors, []);
});

test('an update fetches only the chunks whose CIDs are new, and the course stays whole offline', async (t) => {
  // The teacher changes one lesson and publishes again.
  const addition = "## Complément\n\nUne nouvelle remarque sur la loi d'Ohm.";
  const { server, context, page, fresh } = await savedThenEdited(t, '02-loi-d-ohm.md', addition);
  const before = server.chunkRequests().length;
  await page.reload();
  await page.getByText(SAVED).waitFor({ timeout: 30_000 });

  assert.equal(fresh.length, 2, 'the lesson and its published tree changed');
  assert.deepEqual(server.chunkRequests().slice(before).sort(), fresh.sort());

  await context.setOffline(true);
  await page.goto(`${server.url}#/lecon/2`);
  await page.getByText('Une nouvelle remarque sur la loi').waitFor();
});

/**
 * A first visit to the sample course served with a copy of the built app of its own (`visitOwnBuild`),
 * and `publishVersion2()`, which publishes a new build of it: new styles (`version 2`), built into a new
 * shell (new chunks, a new build id).
 */
async function visitOwnStyledBuild(t) {
  const visit = await visitOwnBuild(t);
  const { www, pkg } = visit;
  const publishVersion2 = () => {
    writeFileSync(join(www, 'style.css'), `${readFileSync(join(www, 'style.css'), 'utf8')}\n/* version 2 */\n`);
    cartable('shell', '--www', www, '--pkg', pkg);
  };
  return { ...visit, publishVersion2 };
}

test('a new version of the app installs in the background and the page offers to reload into it', async (t) => {
  const { course, page, publishVersion2 } = await visitOwnStyledBuild(t);
  await page.getByRole('heading', { level: 1, name: course.manifest.course.title }).waitFor();

  // A new build is published.
  publishVersion2();
  await page.reload();
  const offer = page.getByRole('status').filter({ hasText: 'Une nouvelle version de cartable est prête.' });
  await offer.waitFor({ timeout: 30_000 });
  // Until the pupil chooses, the page keeps running the old version as a whole.
  const styles = () => page.evaluate(() => fetch('style.css').then((r) => r.text()));
  assert.ok(!(await styles()).includes('version 2'));

  await offer.getByRole('button', { name: 'Recharger' }).click();
  await page.waitForEvent('load');
  await page.getByRole('heading', { level: 1, name: course.manifest.course.title }).waitFor();
  assert.ok((await styles()).includes('version 2'), 'the new version runs after the reload');
  assert.equal(await page.getByText('Une nouvelle version de cartable est prête.').count(), 0);
});

test('an update installed while only the embed page is open keeps the app page too: it opens offline', async (t) => {
  const { course, server, context, page, publishVersion2, pkg } = await visitOwnStyledBuild(t);
  const title = course.manifest.course.title;
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await page.close();

  // A new build is published; the pupil next opens the embed page alone, and the update installs then.
  publishVersion2();
  const school = await (await fetch(`${server.url}ecole.html`)).text();
  const address = school.match(/<iframe src="(embed\.html\?[^"]+)"/)[1].replaceAll('&amp;', '&');
  const embed = await context.newPage();
  await embed.goto(server.url + address);
  await embed.getByRole('heading', { level: 1, name: title }).waitFor();
  // The pupil takes the new version (as with the page's "Recharger"); once it runs, the old build's files
  // are pruned, its cached wasm with them.
  await takeNewBuild(embed, pkg);
  await embed.close();

  // Offline, the app page opens from the new build, which kept it though no tab showed it.
  await context.setOffline(true);
  const later = await context.newPage();
  await later.goto(server.url);
  await later.getByRole('heading', { level: 1, name: title }).waitFor({ timeout: 30_000 });
  assert.ok((await later.evaluate(() => fetch('style.css').then((r) => r.text()))).includes('version 2'),
    'the new build serves the page');
});

test('an audio file plays and seeks from stored chunks with no network', async (t) => {
  const { course, server, context, page } = await visitWithWorker(t);
  await saveForOffline(page);

  await context.setOffline(true);
  await page.goto(`${server.url}#/lecon/1`);
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  const seek = await page.locator('audio').evaluate(async (audio) => {
    if (audio.readyState < 1) await new Promise((ok, ko) => { audio.onloadedmetadata = ok; audio.onerror = ko; });
    const seeked = new Promise((ok, ko) => { audio.onseeked = ok; audio.onerror = ko; });
    audio.currentTime = 15;
    await seeked;
    return { duration: audio.duration, time: audio.currentTime, error: audio.error && audio.error.code };
  });
  assert.ok(seek.duration > 20, `duration ${seek.duration}`);
  assert.ok(Math.abs(seek.time - 15) < 0.5, `at ${seek.time}`);
  assert.equal(seek.error, null);
  // The worker answered byte ranges: a 206 with a Content-Range, from storage.
  const range = await page.evaluate(async (src) => {
    const response = await fetch(src, { headers: { Range: 'bytes=100-199' } });
    return { status: response.status, range: response.headers.get('content-range'), length: (await response.arrayBuffer()).byteLength };
  }, await page.locator('audio').getAttribute('src'));
  const wav = course.manifest.files.find((f) => f.path.endsWith('.wav'));
  assert.deepEqual(range, { status: 206, range: `bytes 100-199/${wav.size}`, length: 100 });
});

test('the worker puts stored lessons in the page, shown before any script, then the app takes over', async (t) => {
  const { server, context, page } = await visitWithWorker(t, { hash: '#/lecon/1' });
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  // A picture is shown once its chunks are verified and stored.
  await page.locator('article img').first().waitFor();

  await context.setOffline(true);
  const fresh = await context.newPage();
  // What the page holds once parsed, before the boot script (run at DOMContentLoaded) has started the app.
  await fresh.addInitScript((text) => {
    document.addEventListener('DOMContentLoaded', () => {
      const shown = (element) => element && getComputedStyle(element).display !== 'none';
      const sections = [...document.querySelectorAll('.cartable-prerender > section')];
      window.__parsed = {
        sections: sections.map((section) => section.id),
        shown: sections.filter(shown).map((section) => section.id),
        text: sections.some((section) => shown(section) && section.textContent.includes(text)),
        picture: document.querySelector('.cartable-prerender img')?.getAttribute('src') ?? null,
        rootShown: shown(document.getElementById('cartable')),
      };
    }, { once: true });
  }, LESSON_ONE_TEXT);
  await fresh.goto(`${server.url}#/lecon/1`);
  await fresh.getByRole('status').filter({ hasText: 'Hors ligne' }).waitFor();
  const parsed = await fresh.evaluate(() => window.__parsed);
  // Built only from what the worker stores whole: lesson 1 was visited, lesson 3 was not.
  assert.ok(parsed.sections.includes('/lecon/1') && !parsed.sections.includes('/lecon/3'), parsed.sections.join());
  assert.deepEqual(parsed.shown, ['/lecon/1'], 'only the lesson the address names is shown');
  assert.equal(parsed.text, true, "with the lesson's text");
  assert.match(parsed.picture, /^\/courses\/[^"]+\/cartable-files\/[^"]+\/images\/circuit-mesures\.svg$/);
  assert.equal(parsed.rootShown, false, "the app's root waits hidden");

  assert.equal(await fresh.locator('.cartable-prerender').count(), 0, 'the early lessons are removed once the app rendered');
  assert.equal(await fresh.locator('article.lesson-body').count(), 1);
  assert.equal(await fresh.locator('#cartable').isVisible(), true);
  await fresh.getByRole('link', { name: 'Cahier de textes', exact: true }).click();
  await fresh.locator('.agenda time').first().waitFor();
});

test('a saved course is brought up to date in the background even when a lesson is opened directly', async (t) => {
  const addition = '## Rappel\n\nNe jamais toucher une prise avec les mains mouillées.';
  const { server, context, page, fresh } = await savedThenEdited(t, '04-securite-electrique.md', addition);
  await page.goto(`${server.url}#/lecon/1`);
  await page.reload();
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  // Lesson 4 is not on screen: its new chunks arrive all the same.
  const deadline = Date.now() + 30_000;
  while (!fresh.every((cid) => server.chunkRequests().includes(cid)) && Date.now() < deadline) {
    await page.waitForTimeout(200);
  }
  assert.ok(fresh.every((cid) => server.chunkRequests().includes(cid)), 'the new chunks were fetched');

  await context.setOffline(true);
  await page.goto(`${server.url}#/lecon/4`);
  await page.getByText('Ne jamais toucher une prise avec les mains mouillées.').waitFor();
});
