// Loads the wasm and mounts cartable in `root` with the options `options()` returns; when anything fails,
// says so in plain words instead (French, or English for a browser that prefers it: the app's own strings
// are in the wasm that failed). Shared by the standalone page (app.js) and the embedded one (embed.js).
export async function start(root, options) {
  try {
    const config = options();
    const { default: init, mount } = await import('./pkg/cartable.js');
    await init();
    mount(root, config);
  } catch (error) {
    for (const early of document.querySelectorAll('.cartable-prerender')) early.remove();
    let chosen = null;
    try { chosen = localStorage.getItem('cartable.lang'); } catch { /* storage refused: the browser's choice */ }
    const english = /^en\b/i.test(chosen ?? navigator.languages.find((tag) => /^(fr|en)\b/i.test(tag)) ?? '');
    root.textContent = english
      ? `cartable could not start: ${error.message}. Reload the page; if this goes on, tell your school.`
      : `cartable n'a pas pu démarrer : ${error.message}. Rechargez la page ; si cela continue, prévenez votre établissement.`;
    root.classList.add('fatal');
  }
}
