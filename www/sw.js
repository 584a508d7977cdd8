// cartable's service worker. Listeners are registered synchronously, as browsers require; the work inside
// each waits for the Rust side (pkg/cartable_sw.js), loaded once per worker start.
import init, { install, activate, respond } from './pkg/cartable_sw.js';
import { BUILD, SHELL } from './pkg/build.js';

const scope = self.registration.scope;
const WASM = new URL('pkg/cartable_sw_bg.wasm', scope).href;
const WASM_CACHE = `cartable-sw-${BUILD}`;

// The worker's own wasm is kept in the Cache API: a worker restarted offline must still start.
async function loadWasm() {
  const cache = await caches.open(WASM_CACHE);
  let wasm = await cache.match(WASM);
  if (!wasm) {
    wasm = await fetch(WASM, { cache: 'reload' });
    if (!wasm.ok) throw new Error(`cannot fetch ${WASM}: HTTP ${wasm.status}`);
    await cache.put(WASM, wasm.clone());
  }
  await init({ module_or_path: wasm });
}

// What the worker answers from storage: the app shell (its page with the stored lessons put in), chunks,
// and whole course files. Everything else
// (manifests above all, which must be fresh) goes to the network without a detour through the worker.
const shellPaths = new Set(['index.html', ...SHELL].map((path) => new URL(path, scope).pathname));
const answered = (path) => shellPaths.has(path) || path.includes('/ipfs/') || path.includes('/cartable-files/');

let ready = null;
function rust() {
  ready ??= loadWasm().catch((error) => { ready = null; throw error; });
  return ready;
}

self.addEventListener('install', (event) => {
  event.waitUntil(rust().then(() => install(BUILD, SHELL.map((path) => new URL(path, scope).href))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    await rust();
    await activate(BUILD);
    for (const name of await caches.keys()) {
      if (name.startsWith('cartable-sw-') && name !== WASM_CACHE) await caches.delete(name);
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
      .then(() => respond(request, BUILD, askLeader))
      .then((answer) => answer ?? fetch(request))
      .catch(() => fetch(request)),
  );
});

// The outbox (src/outbox/idb.rs), sent as the page sends it: on start and on Background Sync.
const asked = (r) => new Promise((ok, ko) => { r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
async function sendOutbox() {
  const open = indexedDB.open('cartable-outbox', 1);
  open.onupgradeneeded = () => open.transaction.abort();
  const db = await asked(open);
  const store = (name, mode) => db.transaction(name, mode).objectStore(name);
  try {
    const done = await asked(store('receipts').getAllKeys());
    for (const { key, url, body } of await asked(store('outbox').getAll())) {
      if (done.includes(key)) continue;
      const answer = await fetch(url, { method: 'POST', body });
      if (answer.status == 503 || answer.status == 429) throw 0;
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

// The page asks a waiting new version to take over once the pupil chose to reload.
self.addEventListener('message', (event) => {
  if (event.data === 'cartable:activate-new-version') self.skipWaiting();
});
