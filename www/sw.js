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

// The outbox (src/outbox.rs, IndexedDB stores `outbox` and `receipts`): the worker posts what has no receipt
// yet when it starts and on Background Sync, exactly as the page does: the stored body, so the same
// idempotency key, which the origin answers with its first receipt. In JavaScript: a few lines here would
// weigh kilobytes of wasm in the worker's budget.
const asked = (request) => new Promise((done, fail) => {
  request.onsuccess = () => done(request.result);
  request.onerror = () => fail(request.error);
});
async function sendOutbox() {
  const db = await asked(indexedDB.open('cartable'));
  db.onversionchange = () => db.close();
  try {
    if (!db.objectStoreNames.contains('outbox') || !db.objectStoreNames.contains('receipts')) return;
    const read = db.transaction(['outbox', 'receipts']);
    const done = new Set(await asked(read.objectStore('receipts').getAllKeys()));
    for (const key of await asked(read.objectStore('outbox').getAllKeys())) {
      if (done.has(key)) continue;
      const { url, body } = await asked(db.transaction('outbox').objectStore('outbox').get(key));
      const answer = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      if (answer.status === 503 || answer.status === 429) throw new Error('the origin is busy: try later');
      const receipt = answer.ok ? await answer.json() : null;
      if (receipt?.key !== key) continue;
      await asked(db.transaction('receipts', 'readwrite').objectStore('receipts').put(JSON.stringify(receipt), key));
    }
  } finally {
    db.close();
  }
}
sendOutbox().catch(() => {});
self.addEventListener('sync', (event) => {
  if (event.tag === 'cartable-outbox') event.waitUntil(sendOutbox());
});

// The page asks a waiting new version to take over once the pupil chose to reload.
self.addEventListener('message', (event) => {
  if (event.data === 'cartable:activate-new-version') self.skipWaiting();
});
