// Starts cartable on the standalone page: reads the pinned course and key, loads the wasm, mounts.
const root = document.getElementById('cartable');
// A stored lesson shown early (prerender.js) gets the main thread first: the app's script and wasm are
// loaded once it is in, 1 s at most after this point.
await Promise.race([window.cartableEarlyLesson, new Promise((done) => setTimeout(done, 1000))]);
try {
  const config = JSON.parse(document.getElementById('cartable-config').textContent);
  const { default: init, mount } = await import('./pkg/cartable.js');
  await init();
  mount(root, config);
} catch (error) {
  for (const early of document.querySelectorAll('.cartable-prerender')) early.remove();
  root.hidden = false;
  root.textContent = "cartable n'a pas pu démarrer : " + error.message +
    '. Rechargez la page ; si cela continue, prévenez votre établissement.';
  root.classList.add('fatal');
}
