// Hostile attachments: a course whose HTML and SVG files carry scripts. Signed content is trusted for its
// bytes, never as script of the app's origin: opened every way a pupil can (the lesson's links, the early
// lesson's links, the worker's address of the file, the picture on its own), online and offline, no
// script of theirs runs, and the worker's copy of the app page keeps the origin's policy. A loopback listener stands where their scripts would call home: it must hear
// nothing.
// See: issue 13
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { launch, packSample, root, scratch, serve } from './harness.mjs';

/** A loopback HTTP listener; `heard()` lists the paths asked of it. */
async function listener(t) {
  const heard = [];
  const server = createServer((request, response) => {
    heard.push(request.url);
    response.writeHead(204, { 'access-control-allow-origin': '*' });
    response.end();
  });
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  t.after(() => new Promise((closed) => { server.closeAllConnections(); server.close(closed); }));
  return { url: `http://127.0.0.1:${server.address().port}/`, heard: () => [...heard] };
}

/** The sample course with a lesson linking an HTML page and an SVG picture, both calling `home`. */
function hostileCourse(t, home) {
  const dir = scratch(t);
  const source = join(dir, 'source');
  cpSync(join(root, 'sample/physique-3e'), source, { recursive: true });
  const call = (what) => `fetch('${home}${what}');new Image().src='${home}${what}-img';`;
  writeFileSync(join(source, 'docs/fiche.html'),
    `<!doctype html><title>fiche</title><script>${call('html')}</script><img src=x onerror="${call('html-onerror')}">`);
  writeFileSync(join(source, 'images/schema.svg'),
    `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="${call('svg-onload')}">` +
    `<script>${call('svg')}</script><rect width="40" height="40" fill="#1f5fbf"/></svg>`);
  writeFileSync(join(source, 'lessons/05-annexe.md'),
    '# Annexe\n\n[La fiche](../docs/fiche.html)\n\n![Un schéma](../images/schema.svg)\n\n[Le schéma](../images/schema.svg)\n');
  return packSample(dir, source);
}

/** Opens `url` in a new page of `context`; true when the browser took it as a download, not a page. */
async function opensAsDownload(context, url) {
  const page = await context.newPage();
  const download = page.waitForEvent('download', { timeout: 10_000 }).then(() => true, () => false);
  const shown = await page.goto(url).then(() => true, () => false);
  const downloaded = await download;
  await page.close();
  return downloaded && !shown;
}

test('HTML and SVG attachments never run as the app: every way in, online and offline', async (t) => {
  const home = await listener(t);
  const course = hostileCourse(t, home.url);
  const server = await serve(t, course);
  const context = await (await launch(t)).newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${server.url}#/lecon/5`);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  await page.getByRole('heading', { level: 1, name: 'Annexe' }).waitFor();
  await page.locator('article img[alt="Un schéma"]').waitFor();
  // The worker's copy of the app page goes with the origin's own policy, frame-ancestors included.
  const policy = (await fetch(server.url)).headers.get('content-security-policy');
  assert.match(policy, /frame-ancestors 'self'/);
  const courseId = course.manifest.course.id;
  const workerUrl = (path) => `${server.url}courses/${courseId}/cartable-files/${courseId}/${path}`;

  for (const offline of [false, true]) {
    await context.setOffline(offline);
    if (offline) {
      // Offline, only the worker answers.
      const fromWorker = await page.evaluate(() => fetch('./').then((r) => r.headers.get('content-security-policy')));
      assert.equal(fromWorker, policy);
    }
    // The lesson's links: downloads, whose blobs are not typed as pages.
    const link = page.getByRole('link', { name: 'La fiche' });
    assert.equal(await link.getAttribute('download'), 'fiche.html');
    // Opened in a new tab, its blob is a download too: it is not typed as a page.
    assert.ok(await opensAsDownload(context, await link.getAttribute('href')), 'the blob is only downloaded');
    // The worker's address of each file, opened directly: a download, or a picture in a sandbox.
    assert.ok(await opensAsDownload(context, workerUrl('docs/fiche.html')), 'the HTML page is only downloaded');
    const headers = await page.evaluate((url) => fetch(url).then((r) => Object.fromEntries(r.headers)), workerUrl('docs/fiche.html'));
    assert.equal(headers['content-security-policy'], "sandbox; default-src 'none'");
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['content-disposition'], 'attachment');
    const picture = await context.newPage();
    await picture.goto(workerUrl('images/schema.svg'));
    await picture.waitForTimeout(500);
    await picture.close();
    // The picture's own link, opened in a new tab: a blob of the app's origin, under the app's policy.
    const svgBlob = await context.newPage();
    await svgBlob.goto(await page.getByRole('link', { name: 'Le schéma' }).getAttribute('href')).catch(() => {});
    await svgBlob.waitForTimeout(500);
    await svgBlob.close();
    // The early lesson, as the worker writes it into the page before the app: its file link downloads.
    const early = await context.newPage();
    await early.addInitScript(() => {
      document.addEventListener('DOMContentLoaded', () => {
        const link = document.querySelector('.cartable-prerender a[href*="fiche.html"]');
        window.earlyLink = link && { download: link.hasAttribute('download'), href: link.href };
      }, { once: true });
    });
    await early.goto(`${server.url}#/lecon/5`);
    await early.getByRole('heading', { level: 1, name: 'Annexe' }).waitFor();
    const earlyLink = await early.evaluate(() => window.earlyLink);
    assert.ok(earlyLink?.download, `the early lesson links the file as a download: ${JSON.stringify(earlyLink)}`);
    await early.close();
  }
  await page.waitForTimeout(1000);
  assert.deepEqual(home.heard(), [], 'no script of the attachments ran');
});
