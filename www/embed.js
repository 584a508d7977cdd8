// Starts cartable inside another site's iframe. The course and the school key it must be signed with come
// from this page's address, `embed.html?manifest=<url>&key=ed25519:<base64>[&lang=en][&mirror=<url>…]`:
// whoever writes the iframe's address (the school's site) chooses the key, as the config block of
// index.html does for a self-hosted copy. index.html never reads its address.
const root = document.getElementById('cartable');
try {
  const query = new URLSearchParams(location.search);
  const [manifest, key] = [query.get('manifest'), query.get('key')];
  if (!manifest || !key) throw new Error("l'adresse de la page doit donner manifest et key");
  const { default: init, mount } = await import('./pkg/cartable.js');
  await init();
  mount(root, { manifest, key, lang: query.get('lang') ?? undefined, mirrors: query.getAll('mirror') });
} catch (error) {
  // The app's strings are in the wasm that failed: French, or English for a browser that prefers it.
  let chosen = null;
  try { chosen = localStorage.getItem('cartable.lang'); } catch { /* storage refused: the browser's choice */ }
  const english = /^en\b/i.test(chosen ?? navigator.languages.find((tag) => /^(fr|en)\b/i.test(tag)) ?? '');
  root.textContent = english
    ? `cartable could not start: ${error.message}. Reload the page; if this goes on, tell your school.`
    : `cartable n'a pas pu démarrer : ${error.message}. Rechargez la page ; si cela continue, prévenez votre établissement.`;
  root.classList.add('fatal');
}
