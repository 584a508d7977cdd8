//! The stored lesson that `www/prerender.js` may show before the app starts is removed, and the app
//! shown, once the app has rendered a page of its own.

use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Removes the early lesson, if any, and shows the app's root. Safe to call any number of times.
pub fn retire() {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    if let Some(html) = document.document_element() {
        // Tells a late early-lesson fetch not to show anything any more.
        let _ = html.set_attribute("data-cartable-ready", "1");
    }
    let Ok(early) = document.query_selector_all(".cartable-prerender") else { return };
    for index in 0..early.length() {
        let Some(holder) = early.item(index).and_then(|node| node.dyn_into::<web_sys::Element>().ok()) else {
            continue;
        };
        if let Some(root) = holder.next_element_sibling() {
            let _ = root.remove_attribute("hidden");
        }
        holder.remove();
    }
}

/// Retires the early lesson once the calling component has rendered.
#[hook]
pub fn use_retire_early_lesson() {
    use_effect_with((), |_| retire());
}
