// A mirror exported by `cartable mirror` and served by a real nginx: what the browser tests rely on.
// Guards mirrors: `cartable mirror` and the `ipfs/<cid>?format=raw` chunk URL.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cartable, chunksOf, mirror, nginxMirror, packSample, scratch, tamper } from './harness.mjs';

const bytes = async (response) => Buffer.from(await response.arrayBuffer());

test('nginx serves a mirror byte for byte, with the CORS header, and ignores ?format=raw', async (t) => {
  const course = packSample(scratch(t));
  const dir = mirror(t, course);
  const server = await nginxMirror(t, dir);

  const manifest = await fetch(`${server.url}manifest.json`);
  assert.equal(manifest.status, 200);
  assert.equal(manifest.headers.get('access-control-allow-origin'), '*');
  assert.equal(manifest.headers.get('content-type'), 'application/json');
  assert.deepEqual(await bytes(manifest), readFileSync(join(course.courseDir, 'manifest.json')));

  const cid = chunksOf(course.manifest)[0];
  const chunk = await fetch(`${server.url}ipfs/${cid}?format=raw`);
  assert.equal(chunk.status, 200);
  assert.equal(chunk.headers.get('access-control-allow-origin'), '*');
  assert.match(chunk.headers.get('access-control-expose-headers'), /content-length/i);
  assert.equal(chunk.headers.get('content-type'), 'application/octet-stream');
  assert.deepEqual(await bytes(chunk), readFileSync(join(course.courseDir, 'ipfs', cid)));

  const missing = await fetch(`${server.url}ipfs/bafkreiaaaa?format=raw`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('access-control-allow-origin'), '*', 'errors are readable too');

  assert.deepEqual(server.requests().map(({ method, path, status }) => ({ method, path, status })), [
    { method: 'GET', path: '/manifest.json', status: 200 },
    { method: 'GET', path: `/ipfs/${cid}`, status: 200 },
    { method: 'GET', path: '/ipfs/bafkreiaaaa', status: 404 },
  ]);
});

test('a mirror without CORS sends no Access-Control headers', async (t) => {
  const course = packSample(scratch(t));
  const server = await nginxMirror(t, mirror(t, course), { cors: false });
  const chunk = await fetch(`${server.url}ipfs/${chunksOf(course.manifest)[0]}?format=raw`);
  assert.equal(chunk.status, 200);
  assert.equal(chunk.headers.get('access-control-allow-origin'), null);
});

test('a chunk tampered in the mirror is served as different bytes of the same length', async (t) => {
  const course = packSample(scratch(t));
  const dir = mirror(t, course);
  const cid = chunksOf(course.manifest)[0];
  tamper(join(dir, 'ipfs', cid), 'TAMPERED', 0);
  const server = await nginxMirror(t, dir);
  const served = await bytes(await fetch(`${server.url}ipfs/${cid}?format=raw`));
  const original = readFileSync(join(course.courseDir, 'ipfs', cid));
  assert.equal(served.length, original.length);
  assert.notDeepEqual(served, original);
  // The mirror tree is laid out like a packed course, so `cartable verify` names the bad chunk.
  assert.throws(() => cartable('verify', dir, '--pubkey', course.pubkey), (error) => error.stderr.includes(`ipfs/${cid}: corrupted`));
});
