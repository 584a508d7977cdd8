// Embedding: a school's website shows the course in an iframe from a hosted cartable (another site), the
// demo school page and the mount() example render a lesson, and the app works under the
// Content-Security-Policy `cartable serve` sends, also when its worker serves the page offline.
// See: issue 6
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { auditAccessibility, controlledByWorker, launch, packSample, scratch, serve } from './harness.mjs';

const LESSON_ONE_TEXT = 'Pendant la fermeture du collège';

/** Records the page's (and its frames') Content-Security-Policy violations in `page.violations()`. */
async function watchPolicy(context) {
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      (window.__violations ??= []).push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
}

/** The policy violations seen so far in every frame of `page`. */
async function violations(page) {
  const all = await Promise.all(page.frames().map((frame) => frame.evaluate(() => window.__violations ?? []).catch(() => [])));
  return all.flat();
}

/**
 * A school's own site on another host name (`localhost`, while cartable answers on 127.0.0.1: another
 * site, so the browser partitions the embedded app's storage), serving `html` at `/`.
 */
async function schoolSite(t, html) {
  const server = createServer((request, response) => {
    response.writeHead(request.url === '/' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(request.url === '/' ? html : 'not found');
  });
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  t.after(() => new Promise((closed) => { server.closeAllConnections(); server.close(closed); }));
  return `http://localhost:${server.address().port}/`;
}

test("a school's site on another host shows a lesson inside the iframe, with its one-line snippet", async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  // The demo school page as `cartable serve` fills it in, its iframe pointed at the hosted instance.
  const page = await (await fetch(`${server.url}ecole.html`)).text();
  const snippet = page.match(/<iframe src="embed\.html\?[^"]+"[^>]*><\/iframe>/)?.[0];
  assert.ok(snippet, 'the school page embeds the app with one iframe line');
  const hosted = snippet.replace('src="embed.html', `src="${server.url}embed.html`);
  const school = await schoolSite(t, page.replace(snippet, hosted));

  const context = await (await launch(t)).newContext();
  await watchPolicy(context);
  const browser = await context.newPage();
  const errors = [];
  browser.on('pageerror', (error) => errors.push(error.message));
  await browser.goto(school);
  const app = browser.frameLocator('iframe[title]');
  await app.getByRole('heading', { level: 1, name: course.manifest.course.title }).waitFor();
  await app.getByRole('link', { name: course.manifest.lessons[0].title }).click();
  await app.getByText(LESSON_ONE_TEXT).waitFor();
  const frame = browser.frames().find((f) => f.url().startsWith(`${server.url}embed.html`));
  assert.ok(frame, 'the app runs in a frame of the hosted instance');
  await app.locator('article img').first().scrollIntoViewIfNeeded();
  await frame.waitForFunction(() => {
    const img = document.querySelector('article img');
    return img && img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:');
  });
  assert.deepEqual(await auditAccessibility(frame, 'embedded lesson'), []);
  assert.deepEqual(await violations(browser), []);
  assert.deepEqual(errors, []);
});

test('the demo school page and the mount() example, as cartable serve serves them, show the course', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const context = await (await launch(t)).newContext();
  await watchPolicy(context);
  const page = await context.newPage();

  await page.goto(`${server.url}ecole.html`);
  const app = page.frameLocator('iframe[title]');
  await app.getByRole('heading', { level: 1, name: course.manifest.course.title }).waitFor();
  assert.deepEqual(await auditAccessibility(page, 'demo school page'), []);

  await page.goto(`${server.url}examples/mount.html#/lecon/1`);
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  assert.deepEqual(await violations(page), []);
});

test('the app works under the Content-Security-Policy it is served with, online and offline', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const headers = (await fetch(server.url)).headers;
  const policy = headers.get('content-security-policy');
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/]+=*'/);
  assert.ok(!policy.includes("'unsafe-eval'") && !policy.includes("'unsafe-inline'"), policy);
  assert.match(policy, /frame-ancestors 'self'/);
  assert.match((await fetch(`${server.url}embed.html`)).headers.get('content-security-policy'), /frame-ancestors \*/);

  const context = await (await launch(t)).newContext();
  await watchPolicy(context);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(server.url);
  await controlledByWorker(page);
  await page.getByRole('button', { name: 'Enregistrer pour consulter hors ligne' }).click();
  await page.getByText('Ce cours est disponible hors ligne.').waitFor();
  await page.goto(`${server.url}#/lecon/1`);
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  assert.deepEqual(await violations(page), []);

  // Offline, the worker serves the page with the stored lesson and its one inline line.
  await context.setOffline(true);
  const offline = await page.reload();
  assert.match(await offline.text(), /<script>try\{/, "the worker's page holds its early-lesson line");
  await page.getByText(LESSON_ONE_TEXT).waitFor();
  await page.getByText('Hors ligne : copie du').waitFor();
  assert.deepEqual(await violations(page), []);
  // An inline script other than the worker's line is refused: the policy holds in the worker's copy too.
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true';
    document.head.append(script);
    return window.__injected === true;
  });
  assert.equal(ran, false);
  await page.waitForFunction(() => (window.__violations ?? []).length > 0);
  // Refused by the policy header the worker sends again with its copy, and by the page's <meta>: each
  // reports it, and nothing else is refused.
  const refused = await violations(page);
  assert.ok(refused.length >= 1 && refused.every((violation) => violation === 'script-src-elem inline'), refused.join());
  assert.deepEqual(page.errors, []);
});

test('an embed address without a course or key says so, in the browser language', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const browser = await launch(t);
  const french = await browser.newPage();
  await french.goto(`${server.url}embed.html?manifest=courses/x/manifest.json`);
  await french.locator('.fatal').getByText("cartable n'a pas pu démarrer : l'adresse de la page doit donner manifest et key").waitFor();
  const english = await (await browser.newContext({ locale: 'en-GB' })).newPage();
  await english.goto(`${server.url}embed.html`);
  await english.locator('.fatal').getByText('cartable could not start:').waitFor();
});
