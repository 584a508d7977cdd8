// Boots cartable. Written inline in index.html and embed.html (a test keeps them equal to this file; the
// pages' Content-Security-Policy allows it by its hash), so that the page the origin sends is the one file
// a pupil needs from it before the worker: no refused script can leave "Chargement du cours…" forever.
// It registers the service worker (again and again, with full-jitter pauses, while the origin refuses
// it), waits while the worker keeps the app shell from the mirrors or the origin (every byte checked
// against its CID, in Rust: crates/sw), saying how it goes, then starts the app from the worker's copy.
// Where no worker can run, it starts the app from the origin, asking again for what the origin refuses.
(() => {
  const boot = document.currentScript;
  const fromAddress = boot.dataset.from === 'address';
  const workers = navigator.serviceWorker;
  // A page the worker answers gets the styles before its first paint (the stored lesson is in it), and
  // the app's modules and wasm from the worker's copy at once: the wasm compiles while the page parses.
  // (A first visit waits for the worker to keep them, so as not to take them twice off the network.)
  let compiled = null;
  if (workers?.controller) {
    document.write('<link rel="stylesheet" href="style.css">' +
      '<link rel="modulepreload" href="pkg/cartable.js"><link rel="modulepreload" href="pkg/__wasm_split.js">');
    compiled = WebAssembly.compileStreaming(fetch('pkg/cartable_bg.wasm')).catch(() => null);
  }

  // The language the app will choose: the embed address's, else the pupil's switch, else the browser's.
  let chosen = fromAddress ? new URLSearchParams(location.search).get('lang') : null;
  try { chosen ??= localStorage.getItem('cartable.lang'); } catch { /* storage refused: the browser's choice */ }
  const english = /^en\b/i.test(chosen ?? navigator.languages.find((tag) => /^(fr|en)\b/i.test(tag)) ?? '');
  const words = english ? {
    loading: 'Loading the course…',
    app: (done, total) => `Downloading the app: ${size(done)} of ${size(total)}`,
    busy: (s) => `The school's server is busy: trying again in ${s} s, without overloading it.`,
    down: (s) => `The school's server does not answer: trying again in ${s} s.`,
    failed: (why) => `cartable could not start: ${why}. Reload the page; if this goes on, tell your school.`,
  } : {
    loading: 'Chargement du cours…',
    app: (done, total) => `Téléchargement de l'application : ${size(done)} sur ${size(total)}`,
    busy: (s) => `Le serveur de l'école est saturé : nouvel essai dans ${s} s, sans le surcharger.`,
    down: (s) => `Le serveur de l'école ne répond pas : nouvel essai dans ${s} s.`,
    failed: (why) => `cartable n'a pas pu démarrer : ${why}. Rechargez la page ; si cela continue, prévenez votre établissement.`,
  };
  const size = (bytes) => {
    const mb = (bytes / 1e6).toFixed(1);
    return english ? `${mb} MB` : `${mb.replace('.', ',')} Mo`;
  };

  const pause = (ms) => new Promise((done) => setTimeout(done, ms));
  // Full jitter, from 1 s doubling up to 30 s: the same rule as the core's (fetch::full_jitter).
  const jitter = (retry) => Math.random() * Math.min(30_000, 1000 * 2 ** Math.min(retry - 1, 10));

  let status = null;
  const show = (text) => {
    const root = document.getElementById('cartable');
    if (!root) return;
    if (!status?.isConnected) {
      status = document.createElement('p');
      status.className = 'boot-status';
      status.setAttribute('role', 'status');
      root.append(status);
    }
    status.textContent = text;
  };
  // Counts a wait down on the page, second by second.
  const countdown = async (ms, say) => {
    for (let left = Math.ceil(ms / 1000); left > 0; left -= 1) {
      show(say(left));
      await pause(Math.min(1000, ms));
    }
  };

  const options = () => {
    if (!fromAddress) return JSON.parse(document.getElementById('cartable-config').textContent);
    // The embed page: the course and the key come from its address, which the framing site writes.
    const query = new URLSearchParams(location.search);
    const [manifest, key] = [query.get('manifest'), query.get('key')];
    if (!manifest || !key) throw new Error("l'adresse de la page doit donner manifest et key");
    return { manifest, key, lang: query.get('lang') ?? undefined, mirrors: query.getAll('mirror') };
  };

  // The worker script, naming the mirrors it may take the app from.
  const script = (config) => {
    const query = new URLSearchParams();
    for (const mirror of config.mirrors ?? []) {
      const base = new URL(mirror, location.href).href;
      query.append('mirror', base.endsWith('/') ? base : `${base}/`);
    }
    return `sw.js${query.size ? `?${query}` : ''}`;
  };

  // Installs that may fail (the worker's own patience spent each time) before the app starts from the
  // origin, leaving the worker to the app's own registration: a lasting failure (a full disk) must not
  // keep the pupil waiting forever.
  const INSTALLS = 3;

  // Resolves 'controls' once a worker controls the page; 'elsewhere' when one was asked for but does not
  // control this page (after a forced reload, or installs that keep failing): the app starts from the
  // origin and says the app is not kept yet; 'none' where no worker can run. Asks again for refused
  // registrations and failed installs, telling the pupil what it waits for.
  const underWorker = async (url) => {
    const heard = new BroadcastChannel('cartable-shell');
    heard.onmessage = ({ data }) => {
      if (data?.wait > 0 && data.origin !== 'healthy') show((data.origin === 'down' ? words.down : words.busy)(Math.ceil(data.wait / 1000)));
      else if (data?.total) show(words.app(data.done, data.total));
    };
    try {
      let installs = 0;
      for (let failures = 1; ; failures += 1) {
        let outcome = 'refused';
        try {
          outcome = await controlled(await workers.register(url, { type: 'module' }));
        } catch (error) {
          if (error?.name === 'SecurityError') return 'none';
        }
        if (workers.controller) return 'controls';
        if (outcome === 'elsewhere') return 'elsewhere';
        if (outcome === 'failed' && (installs += 1) >= INSTALLS) return 'elsewhere';
        await countdown(jitter(failures), words.busy);
      }
    } finally {
      heard.close();
    }
  };

  // Waits for the registration's worker: 'controls' once it controls the page, 'failed' if its install
  // failed, 'elsewhere' if it is active but does not take the page (as after a forced reload).
  const controlled = (registration) => new Promise((resolve) => {
    if (workers.controller) return resolve('controls');
    workers.addEventListener('controllerchange', () => resolve('controls'), { once: true });
    const worker = registration.installing ?? registration.waiting ?? registration.active;
    if (!worker) return resolve('failed');
    const settle = () => {
      if (worker.state === 'redundant') resolve('failed');
      if (worker.state === 'activated' && !workers.controller) {
        worker.postMessage('cartable:claim');
        setTimeout(() => resolve(workers.controller ? 'controls' : 'elsewhere'), 3000);
      }
    };
    worker.addEventListener('statechange', settle);
    settle();
  });

  // A module from the origin, asked again (under a new address: a failed import is remembered) while refused.
  const importRetrying = async (path) => {
    for (let retry = 1; ; retry += 1) {
      try {
        return await import(retry === 1 ? path : `${path}?retry=${retry}`);
      } catch (error) {
        if (retry >= 8) throw error;
        await countdown(jitter(retry), words.busy);
      }
    }
  };

  // The app's wasm, asked again while refused, after the `Retry-After` the origin sends and some jitter.
  const wasmRetrying = async (url) => {
    for (let retry = 1; ; retry += 1) {
      const answer = await fetch(url).catch(() => null);
      if (answer?.ok) return answer;
      if (retry >= 8) throw new Error(`${url}: ${answer ? `HTTP ${answer.status}` : 'no answer'}`);
      const asked = Number(answer?.headers.get('retry-after')) * 1000;
      await countdown((asked > 0 ? asked : 0) + jitter(retry), answer ? words.busy : words.down);
    }
  };

  const start = async () => {
    const root = document.getElementById('cartable');
    // The page's first words are French; the app sets the language once it runs.
    if (english) {
      document.documentElement.lang = 'en';
      for (const loading of root.querySelectorAll('.loading')) loading.textContent = words.loading;
    }
    try {
      const config = options();
      const worker = workers && config.serviceWorker !== null ? await underWorker(script(config)) : 'none';
      config.serviceWorker = worker === 'none' ? null : script(config);
      if (!document.querySelector('link[rel="stylesheet"]')) {
        const styles = document.createElement('link');
        styles.rel = 'stylesheet';
        styles.href = 'style.css';
        document.head.append(styles);
      }
      const { default: init, mount } = await importRetrying('./pkg/cartable.js');
      const wasm = (await compiled) ?? await wasmRetrying(new URL('pkg/cartable_bg.wasm', location.href));
      await init({ module_or_path: wasm });
      // A stored lesson the worker put in the page, and the address names, is painted before the app
      // takes the main thread.
      if (document.querySelector('.cartable-prerender > section:not([hidden])')) {
        await new Promise((painted) => requestAnimationFrame(() => setTimeout(painted, 0)));
      }
      mount(root, config);
    } catch (error) {
      for (const early of document.querySelectorAll('.cartable-prerender')) early.remove();
      root.textContent = words.failed(error.message);
      root.classList.add('fatal');
    }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
})();
