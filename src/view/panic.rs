//! A pupil never sees a Rust panic: the page shows a short message and a reload link instead.

use std::cell::RefCell;

thread_local! {
    static ROOT: RefCell<Option<web_sys::Element>> = const { RefCell::new(None) };
}

/// Installs the panic hook for the app mounted in `root`.
pub fn install(root: &web_sys::Element) {
    ROOT.with(|cell| *cell.borrow_mut() = Some(root.clone()));
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
        ROOT.with(|cell| {
            if let Some(root) = cell.borrow().as_ref() {
                show_banner(root);
            }
        });
    }));
}

fn show_banner(root: &web_sys::Element) {
    let lang = crate::i18n::Lang::choose(
        root.closest("[lang]").ok().flatten().and_then(|e| e.get_attribute("lang")).as_deref(),
    );
    let text = lang.text();
    let Some(document) = root.owner_document() else { return };
    let Ok(banner) = document.create_element("div") else { return };
    banner.set_class_name("crash");
    let _ = banner.set_attribute("role", "alert");
    banner.set_text_content(Some(&format!("{} ", text.crashed)));
    if let Ok(link) = document.create_element("a") {
        let here = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
        let _ = link.set_attribute("href", &here);
        link.set_text_content(Some(text.reload));
        let _ = banner.append_child(&link);
    }
    let _ = root.prepend_with_node_1(&banner);
}
