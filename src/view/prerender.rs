//! The stored lessons the service worker puts in the page (`cartable_core::html::page_with_lessons`) are
//! removed once the app has rendered a page of its own; the app's root shows again by itself.

use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Removes the early lessons, if any. Safe to call any number of times.
pub fn retire() {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    let Ok(early) = document.query_selector_all(".cartable-prerender") else { return };
    for index in 0..early.length() {
        if let Some(holder) = early.item(index).and_then(|node| node.dyn_into::<web_sys::Element>().ok()) {
            holder.remove();
        }
    }
}

/// Retires the early lessons once the calling component has rendered.
#[hook]
pub fn use_retire_early_lesson() {
    use_effect_with((), |_| retire());
}
