// Shows a stored lesson at once, before the app has started: the service worker builds it as escaped HTML
// from the verified copy in IndexedDB. The app takes over (and removes it) as soon as it has rendered a
// page. Only on a lesson address, and only when a worker controls the page. Loaded `async` from <head>, so
// the worker starts building the lesson before styles and scripts load; app.js waits for it (briefly)
// before starting the wasm, which would otherwise hold the main thread first.
window.cartableEarlyLesson = (async () => {
  const lesson = /^#\/lecon\/(\d+)$/.exec(location.hash);
  if (!lesson || !navigator.serviceWorker || !navigator.serviceWorker.controller) return;
  try {
    const config = JSON.parse(document.getElementById('cartable-config').textContent);
    const manifest = new URL(config.manifest, location.href);
    // The course id this manifest URL published last time (the app remembers it: see src/course.rs).
    const course = localStorage.getItem(`cartable.course-of.${manifest.href}`);
    if (!course) return;
    const response = await fetch(new URL(`cartable-prerender/${encodeURIComponent(course)}/${lesson[1]}`, manifest));
    if (!response.ok) return;
    const html = await response.text();
    // The app's root exists once the page is parsed.
    while (document.readyState === 'loading') {
      await new Promise((parsed) => document.addEventListener('readystatechange', parsed, { once: true }));
    }
    const root = document.getElementById('cartable');
    if (!root || document.documentElement.dataset.cartableReady) return;
    const holder = document.createElement('div');
    holder.className = 'cartable-prerender';
    holder.innerHTML = html;
    root.before(holder);
    root.hidden = true;
  } catch {
    // Nothing shown early: the app shows the lesson when it starts.
  }
})();
