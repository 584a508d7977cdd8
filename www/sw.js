// cartable's service worker. Listeners are registered synchronously, as browsers require; the work inside
// each waits for the Rust side (pkg/cartable_sw.js), loaded once per worker start. This script and the one
// module it imports come from the page's own origin, as the platform requires of a worker: they are the
// only files of the app that must. The module ends with the build's list of the rest of the app by CID
// (`cartable shell`), which the worker keeps from the mirrors the page names (`sw.js?mirror=<url>`) or
// the origin, every byte checked.
import init, { install, activate, respond, BUILD, SHELL } from './pkg/cartable_sw.js';

const scope = self.registration.scope;
const mirrors = new URL(self.location.href).searchParams.getAll('mirror').map((base) => (base.endsWith('/') ? base : `${base}/`));
const WASM = new URL(SHELL.worker.path, scope).href;
const WASM_CACHE = `cartable-sw-${BUILD}`;

// The worker's own wasm, kept in the Cache API: a worker restarted offline must still start. Before any
// Rust runs, it is fetched here: from each mirror in turn, then the origin, and checked against its CID.
async function loadWasm() {
  const cache = await caches.open(WASM_CACHE);
  let wasm = await cache.match(WASM);
  if (!wasm) {
    const chunks = [];
    for (const cid of SHELL.worker.chunks) chunks.push(await fetchChecked(cid));
    wasm = new Response(new Blob(chunks), { headers: { 'content-type': 'application/wasm' } });
    await cache.put(WASM, wasm.clone());
  }
  await init({ module_or_path: wasm });
}

async function fetchChecked(cid) {
  const urls = [...mirrors.map((mirror) => new URL(`ipfs/${cid}?format=raw`, mirror).href), new URL(`pkg/ipfs/${cid}`, scope).href];
  for (const url of urls) {
    try {
      // Past the HTTP cache: a bad copy kept there would be given again.
      const answer = await fetch(url, { cache: 'no-store' });
      const bytes = answer.ok && await answer.arrayBuffer();
      if (bytes && await cidOf(bytes) === cid) return bytes;
    } catch { /* the next source */ }
  }
  // The install fails; the page registers the worker again after a pause (www/boot.js).
  throw new Error(`no source gave the worker's code (${cid})`);
}

// The CIDv1 (raw, sha2-256, base32) of `bytes`, as cartable_core::Cid writes it.
async function cidOf(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const binary = [0x01, 0x55, 0x12, 0x20, ...digest];
  let [bits, value, text] = [0, 0, 'b'];
  for (const byte of binary) {
    value = (value << 8) | byte;
    for (bits += 8; bits >= 5; bits -= 5) text += 'abcdefghijklmnopqrstuvwxyz234567'[(value >>> (bits - 5)) & 31];
  }
  return bits > 0 ? text + 'abcdefghijklmnopqrstuvwxyz234567'[(value << (5 - bits)) & 31] : text;
}

// What the worker answers from storage: the app shell (its pages with the stored lessons put in), chunks,
// and whole course files. Everything else (manifests above all, which must be fresh) goes to the network
// without a detour through the worker.
const listed = ['', ...SHELL.pages, ...SHELL.files.map((file) => file.path), ...SHELL.parts.map((part) => part.path)];
const shellPaths = new Set(listed.map((path) => new URL(path, scope).pathname));
const answered = (path) => shellPaths.has(path) || path.includes('/ipfs/') || path.includes('/cartable-files/');

let ready = null;
function rust() {
  ready ??= loadWasm().catch((error) => { ready = null; throw error; });
  return ready;
}

self.addEventListener('install', (event) => {
  event.waitUntil(rust().then(() => install(BUILD, JSON.stringify(SHELL), mirrors)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    await rust();
    // A newer build installing meanwhile keeps what it has fetched: nothing is pruned until it is done.
    const newer = self.registration.installing !== null;
    await activate(BUILD, newer);
    for (const name of await caches.keys()) {
      if (!newer && name.startsWith('cartable-sw-') && name !== WASM_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Asks the tab leading the course's swarm for a chunk the origin could not give (crates/sw/src/leader.rs).
async function askLeader(name, miss) {
  const locks = await navigator.locks?.query();
  if (locks && !locks.held.some((lock) => lock.name === name)) return undefined;
  const channel = new BroadcastChannel(name);
  const chunk = await new Promise((done) => {
    setTimeout(done, 15_000);
    channel.onmessage = ({ data }) => { if (data?.miss === miss) done(data.chunk); };
    channel.postMessage(miss);
  });
  channel.close();
  return chunk;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || !answered(url.pathname)) return;
  event.respondWith(
    rust()
      .then(() => respond(request, BUILD, mirrors, askLeader))
      .then((answer) => answer ?? fetch(request))
      .catch(() => fetch(request)),
  );
});

// The outbox (src/outbox/idb.rs), sent as the page sends it: on start and on Background Sync. Work with a
// receipt or refused for good (crates/core/src/submission/outbox.rs) is not posted again; a refusal is
// kept, as the page keeps it, until the pupil asks to send again.
const asked = (r) => new Promise((ok, ko) => { r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
async function sendOutbox() {
  const open = indexedDB.open('cartable-outbox', 2);
  open.onupgradeneeded = () => open.transaction.abort();
  const db = await asked(open);
  db.onversionchange = () => db.close();
  const store = (name, mode) => db.transaction(name, mode).objectStore(name);
  try {
    const done = [...await asked(store('receipts').getAllKeys()), ...await asked(store('refusals').getAllKeys())];
    for (const { key, url, body } of await asked(store('outbox').getAll())) {
      if (done.includes(key)) continue;
      const answer = await fetch(url, { method: 'POST', body });
      if (answer.status == 503 || answer.status == 429) throw 0;
      if ([400, 404, 413].includes(answer.status)) {
        const reason = (await answer.text()).trim();
        await asked(store('refusals', 'readwrite').put({ key, reason }, key));
        continue;
      }
      const receipt = answer.ok && await answer.json();
      if (receipt.key == key) await asked(store('receipts', 'readwrite').put(JSON.stringify(receipt), key));
    }
  } finally {
    db.close();
  }
}
sendOutbox().catch(() => {});
self.addEventListener('sync', (event) => {
  if (event.tag == 'cartable-outbox') event.waitUntil(sendOutbox());
});

// The page asks a waiting new version to take over once the pupil chose to reload; a page loaded past the
// worker (a forced reload) asks to be claimed.
self.addEventListener('message', (event) => {
  if (event.data === 'cartable:activate-new-version') self.skipWaiting();
  if (event.data === 'cartable:claim') event.waitUntil(self.clients.claim());
});
