// The durable outbox: work handed in and exercise answers are kept in IndexedDB before the page says so,
// and reach the origin's SQLite exactly once, across a closed browser, an origin that was down, refusals with
// Retry-After and a receipt lost on the way. Then the teacher view: its token, the list, a file, the CSV.
// See: issue 6
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { auditAccessibility, controlledByWorker, freePort, packSample, root, scratch, serve } from './harness.mjs';

const TOKEN = 'jeton-du-professeur-42';
const FILE = Buffer.from('%PDF-1.4\n% le devoir de Léa, octets exacts \x00\x01\x02\xff\n');

/** Rows of the origin's SQLite file, read with the sqlite3 command-line shell (JSON mode). */
function rows(db, sql) {
  const out = execFileSync('sqlite3', ['-json', db, sql], { encoding: 'utf8' }).trim();
  return out ? JSON.parse(out) : [];
}

/**
 * A folder for a browser profile. When the test ends, the browsers of `browserIn` are closed first, then
 * the profiles removed, in one hook (a test's `after` hooks run in the order they were added).
 */
function profileDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'cartable-profile-'));
  if (!t.profiles) {
    t.profiles = [];
    t.browsers = [];
    t.after(async () => {
      for (const context of t.browsers) await context.close().catch(() => {});
      for (const profile of t.profiles) rmSync(profile, { recursive: true, force: true });
    });
  }
  t.profiles.push(dir);
  return dir;
}

/** A Chromium whose profile lives in `profile`: closing it and launching again keeps IndexedDB. */
async function browserIn(t, profile) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--accept-lang=fr-FR,fr'],
  });
  t.browsers.push(context);
  const page = context.pages()[0] ?? await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  return { context, page };
}

/** A course served on a fixed port (so the page's origin, and its storage, is the same after a restart). */
async function school(t, extra = []) {
  const dir = scratch(t);
  const course = packSample(dir);
  const port = String(await freePort());
  const db = join(dir, 'submissions.sqlite');
  const args = ['--port', port, '--db', db, '--teacher-token', TOKEN, '--no-tracker'];
  const start = (more = extra, served = course) => serve(t, served, [...args, ...more]);
  return { dir, db, start };
}

/** Fills "Mon travail" and hands it in; resolves with the key once the page says it is saved. */
async function handIn(page, { student = 'Léa Martin', title, text, file = false }) {
  await page.locator('#work-student').fill(student);
  await page.locator('#work-title').fill(title);
  await page.locator('#work-text').fill(text);
  if (file) await page.locator('#work-files').setInputFiles({ name: 'devoir.pdf', mimeType: 'application/pdf', buffer: FILE });
  await page.getByRole('button', { name: 'Rendre' }).click();
  const saved = page.locator('.work-saved');
  await saved.waitFor();
  assert.match(await saved.innerText(), /^Enregistré sur cet appareil\. Reçu local [0-9a-f]{8}, /);
  return saved.getAttribute('data-key');
}

async function openWork(page, url) {
  await page.goto(`${url}#/travail`);
  await page.locator('#work-student').waitFor({ timeout: 30_000 });
}

function sent(page, key, timeout = 30_000) {
  return page.locator(`.work-items li[data-key="${key}"][data-state="sent"]`).waitFor({ timeout });
}

const posts = (server) => server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/submissions'));

test('work handed in while the origin is down reaches it once, after the browser was closed', async (t) => {
  const { db, start } = await school(t);
  let server = await start();
  const profile = profileDir(t);
  let { context, page } = await browserIn(t, profile);
  await openWork(page, server.url);
  await controlledByWorker(page);

  await server.stop();
  const first = await handIn(page, { title: 'Exercice 3 p. 42', text: 'U = R × I', file: true });
  const second = await handIn(page, { title: 'Exercice 4', text: 'I = U / R' });
  for (const key of [first, second]) {
    await page.locator(`.work-items li[data-key="${key}"][data-state="pending"]`).waitFor();
  }
  assert.match(await page.locator(`li[data-key="${first}"]`).innerText(), /En attente d'envoi/);
  await context.close();

  server = await start();
  ({ context, page } = await browserIn(t, profile));
  await openWork(page, server.url);
  await sent(page, first);
  await sent(page, second);
  assert.match(await page.locator(`li[data-key="${first}"]`).innerText(), /Envoyé : reçu n° \d+ de l'établissement/);

  const stored = rows(db, 'SELECT key, student, subject, text FROM submissions ORDER BY id');
  assert.deepEqual(stored.map((r) => r.key).sort(), [first, second].sort(), 'exactly one row per submission');
  assert.deepEqual(stored.find((r) => r.key === first), { key: first, student: 'Léa Martin', subject: 'Exercice 3 p. 42', text: 'U = R × I' });
  const [file] = rows(db, `SELECT hex(bytes) AS hex, name FROM files JOIN submissions ON submissions.id = submission_id WHERE key = '${first}'`);
  assert.equal(file.hex, FILE.toString('hex').toUpperCase(), 'the file arrived byte for byte');
  // The page, another reload, and the worker may all have sent: still one row each.
  await page.reload();
  await sent(page, first);
  assert.equal(rows(db, 'SELECT count(*) AS n FROM submissions')[0].n, 2);
  assert.deepEqual(page.errors, []);
});

test('exercise answers checked offline reach the teacher once, after the browser was closed', async (t) => {
  const { db, start } = await school(t);
  let server = await start();
  const profile = profileDir(t);
  let { context, page } = await browserIn(t, profile);
  await page.goto(server.url);
  await controlledByWorker(page);
  await page.getByRole('button', { name: 'Enregistrer pour consulter hors ligne' }).click();
  await page.getByText('Ce cours est disponible hors ligne.').waitFor({ timeout: 120_000 });
  await openWork(page, server.url);
  await server.stop();

  // The name is given once, with a piece of work; the exercise page then says whose answers go out.
  await handIn(page, { title: 'Exercice 1', text: 'hors ligne' });
  await page.goto(`${server.url}#/lecon/1/exercices`);
  await page.getByText('au nom de « Léa Martin »', { exact: false }).waitFor();
  const single = page.locator('form.question').first();
  await single.getByLabel('en watts (W)').check();
  await single.getByRole('button', { name: 'Vérifier' }).click();
  await single.getByText("Ce n'est pas ça. Réessayez.").waitFor();
  await single.getByLabel('en volts (V)').check();
  await single.getByRole('button', { name: 'Vérifier' }).click();
  await single.getByText('Juste !').waitFor();
  await openWork(page, server.url);
  const answers = page.locator('.work-items li', { hasText: '#unite-tension' });
  await answers.nth(1).waitFor();
  assert.equal(await answers.count(), 2, 'one outbox entry per checked answer');
  const keys = await answers.evaluateAll((items) => items.map((li) => li.dataset.key));
  await context.close();

  server = await start();
  ({ context, page } = await browserIn(t, profile));
  await openWork(page, server.url);
  for (const key of keys) await sent(page, key);
  const stored = rows(db, "SELECT key, student, subject, score, text FROM submissions WHERE kind = 'answer' ORDER BY score");
  assert.deepEqual(stored.map((r) => r.key).sort(), [...keys].sort(), 'exactly one row per answer');
  assert.ok(stored.every((r) => r.student === 'Léa Martin' && r.subject.endsWith('.exercises.json#unite-tension')));
  assert.deepEqual(stored.map((r) => r.score), [0, 1], 'the offline grades: wrong, then right');
  assert.equal(JSON.parse(stored[1].text).attempts, 2);
  assert.deepEqual(page.errors, []);
});

test('the service worker sends the outbox (when it starts or on Background Sync) with no page of the app open', async (t) => {
  const { db, start } = await school(t);
  let server = await start();
  const { context, page } = await browserIn(t, profileDir(t));
  await openWork(page, server.url);
  await controlledByWorker(page);
  await server.stop();
  const key = await handIn(page, { title: 'Exercice 7', text: 'hors ligne' });
  await page.goto('about:blank');
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');

  server = await start();
  // A page the app does not run on, in the worker's scope: the worker starts, and sends.
  await page.goto(`${server.url}teacher`);
  const deadline = Date.now() + 15_000;
  while (rows(db, 'SELECT key FROM submissions').length === 0 && Date.now() < deadline) {
    await new Promise((wait) => setTimeout(wait, 200));
  }
  assert.deepEqual(rows(db, 'SELECT key FROM submissions'), [{ key }]);
  const receipts = await page.evaluate(() => new Promise((done) => {
    const open = indexedDB.open('cartable-outbox');
    open.onsuccess = () => {
      const read = open.result.transaction('receipts').objectStore('receipts').getAll();
      read.onsuccess = () => done(read.result.map((json) => JSON.parse(json).key));
    };
  }));
  assert.deepEqual(receipts, [key], 'the worker kept the receipt');
  assert.ok(posts(server).every((r) => r.status === 200));
});

/** The sample under another course id: what the school serves once the pupil's course is withdrawn. */
function anotherCourse(t) {
  const dir = scratch(t);
  const source = join(dir, 'source');
  cpSync(join(root, 'sample/physique-3e'), source, { recursive: true });
  const toml = join(source, 'course.toml');
  writeFileSync(toml, readFileSync(toml, 'utf8').replace(/^id = ".*"$/m, 'id = "physique-3e-archive"'));
  return packSample(dir, source);
}

async function until(condition, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wait) => setTimeout(wait, 100));
  }
}

// See: issue 14
test('work the origin refuses for good is kept, and posted again by neither the worker nor the page until asked', async (t) => {
  const { start } = await school(t);
  let server = await start();
  const { context, page } = await browserIn(t, profileDir(t));
  await openWork(page, server.url);
  await controlledByWorker(page);
  await server.stop();
  const key = await handIn(page, { title: 'Exercice 9', text: 'pour un cours retiré' });
  await page.goto('about:blank');
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');

  // The origin comes back without the course: the work's address answers 404. The worker, started by a
  // page the app does not run on, posts it once and keeps the refusal.
  server = await start([], anotherCourse(t));
  await page.goto(`${server.url}teacher`);
  await until(() => posts(server).length === 1, "the worker's post");
  assert.equal(posts(server)[0].status, 404);
  await page.goto('about:blank');
  await cdp.send('ServiceWorker.stopAllWorkers');

  // The worker starts again and the page opens: the work shows as refused, with the origin's words, and
  // neither posts it again.
  await openWork(page, server.url);
  const refused = page.locator(`.work-items li[data-key="${key}"][data-state="refused"]`);
  await refused.waitFor({ timeout: 30_000 });
  assert.match(await refused.innerText(), /Refusé par l'établissement : not found/);
  await new Promise((wait) => setTimeout(wait, 1_500));
  assert.equal(posts(server).length, 1, 'posted once, by the worker');

  // "Envoyer maintenant" is the pupil asking: the page posts it again, and it is refused again.
  await page.getByRole('button', { name: 'Envoyer maintenant' }).click();
  await until(() => posts(server).length === 2, "the page's post");
  await refused.waitFor();
  assert.deepEqual(page.errors, []);
});

test('an origin answering 503 with Retry-After gets the work once it takes it', async (t) => {
  const { db, start } = await school(t, ['--refuse-submissions', '2']);
  const server = await start();
  const { page } = await browserIn(t, profileDir(t));
  await openWork(page, server.url);
  const key = await handIn(page, { title: 'Exercice 5', text: 'P = U × I' });
  await sent(page, key);
  const statuses = posts(server).map((r) => r.status);
  assert.deepEqual(statuses.slice(0, 2), [503, 503], `refused first: ${statuses}`);
  assert.ok(statuses.includes(200), `then accepted: ${statuses}`);
  const [refused, accepted] = [posts(server)[0], posts(server).find((r) => r.status === 200)];
  assert.ok(accepted.at - refused.at >= 900, `Retry-After: 1 was waited for (${accepted.at - refused.at} ms)`);
  assert.deepEqual(rows(db, 'SELECT key FROM submissions'), [{ key }]);
});

test('a receipt lost on the way is asked for again with the same key, and no row is added', async (t) => {
  const { db, start } = await school(t, ['--drop-response-every', '1']);
  const server = await start();
  const { page } = await browserIn(t, profileDir(t));
  await openWork(page, server.url);
  const key = await handIn(page, { title: 'Exercice 6', text: 'R = U / I' });
  await sent(page, key);
  const statuses = posts(server).map((r) => r.status);
  // The page and the worker may both send the key at once: the lost answer need not be logged first.
  assert.ok(statuses.includes(0), `an answer was lost: ${statuses}`);
  assert.ok(statuses.includes(200), `${statuses}`);
  const stored = rows(db, 'SELECT id, key FROM submissions');
  assert.deepEqual(stored.map((r) => r.key), [key], 'stored once, though sent twice or more');
  assert.match(await page.locator(`li[data-key="${key}"]`).innerText(), new RegExp(`reçu n° ${stored[0].id} `));
});

test('the teacher view lists the work behind its token, with the file and a CSV export; send to receipt timing', async (t) => {
  const { start } = await school(t);
  const server = await start();
  const { page } = await browserIn(t, profileDir(t));
  await openWork(page, server.url);

  // Median time from the pupil's click to the school's receipt on screen, healthy origin.
  const times = [];
  for (let i = 1; i <= 7; i += 1) {
    const clicked = Date.now();
    const key = await handIn(page, { student: '=HYPERLINK("x")<b>Zoé</b>', title: `Essai ${i}`, text: 'vite' });
    await sent(page, key);
    times.push(Date.now() - clicked);
  }
  const median = [...times].sort((a, b) => a - b)[3];
  t.diagnostic(`send → receipt, healthy origin: median ${median} ms (${times.join(', ')} ms)`);

  await sent(page, await handIn(page, { student: 'Léa Martin', title: 'Exercice 3 p. 42', text: 'U = R × I', file: true }));

  const teacher = `${server.url}teacher`;
  const refused = await fetch(teacher);
  assert.equal(refused.status, 401);
  assert.match(await refused.text(), /Jeton enseignant/);
  assert.equal((await fetch(teacher, { headers: { authorization: 'Bearer nope-nope-nope' } })).status, 401);
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
  const listing = await (await fetch(teacher, auth)).text();
  assert.match(listing, /Léa Martin/);
  assert.match(listing, /Exercice 3 p\. 42/);
  assert.ok(listing.includes('&lt;b&gt;Zoé&lt;/b&gt;') && !listing.includes('<b>Zoé'), 'names are escaped');
  const link = listing.match(/href="(\/teacher\/files\/\d+\/0)"/)[1];
  const download = await fetch(new URL(link, server.url), auth);
  assert.equal(download.headers.get('content-disposition'), 'attachment; filename="devoir.pdf"');
  assert.equal(download.headers.get('content-type'), 'application/octet-stream');
  const bytes = Buffer.from(await download.arrayBuffer());
  assert.equal(createHash('sha256').update(bytes).digest('hex'), createHash('sha256').update(FILE).digest('hex'));
  assert.equal((await fetch(new URL(link, server.url))).status, 401, 'files too are behind the token');

  const csv = await (await fetch(`${teacher}/submissions.csv`, auth)).text();
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines.length, 1 + 8, 'a header and one line per submission');
  assert.ok(lines.some((line) => line.includes('"Léa Martin","hand_in","Exercice 3 p. 42","U = R × I"')), csv);
  assert.ok(csv.includes('"\'=HYPERLINK(""x"")<b>Zoé</b>"'), 'a formula is defused');

  // The login form sets an HttpOnly, SameSite=Strict cookie that opens the view in the browser too.
  await page.goto(teacher);
  assert.deepEqual(await auditAccessibility(page, 'teacher login'), []);
  await page.getByLabel('Jeton enseignant').fill(TOKEN);
  await page.getByRole('button', { name: 'Entrer' }).click();
  await page.getByRole('heading', { name: 'Travaux reçus' }).waitFor();
  assert.deepEqual(await auditAccessibility(page, 'teacher view'), []);
  const [cookie] = await page.context().cookies();
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
});
