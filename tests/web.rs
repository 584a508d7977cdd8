//! Browser tier: runs in headless Chromium (`cargo test --target wasm32-unknown-unknown -p cartable`).
//! Rendering of hostile lessons into a real DOM, and failures against a real fetch.
// See: issue 2
#![cfg(target_arch = "wasm32")]

use std::collections::HashMap;

use cartable::course::{Course, LoadError};
use cartable::i18n::Lang;
use cartable::view::nodes::{LessonBody, LessonBodyProps};
use cartable::view::route::Route;
use cartable_core::markdown;
use cartable_core::SecretKey;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Lets Yew's scheduler render and the browser settle.
async fn settle() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let window = web_sys::window().expect("a window");
        window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20).expect("a timer");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("the timer fires");
}

/// Mounts a lesson made from `source` into a fresh element and returns that element once rendered.
async fn render(source: &str, assets: &[(&str, &str)]) -> web_sys::Element {
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
    let root = document.create_element("div").expect("a div");
    document.body().expect("a body").append_child(&root).expect("appended");
    let assets = assets
        .iter()
        .map(|(path, url)| (path.to_string(), Ok((url.to_string(), "image/png".to_string()))))
        .collect::<HashMap<_, _>>();
    // As in production: the packer parses and publishes the tree, the app reads it back.
    let published = markdown::to_json(&markdown::parse("lessons/01.md", source).nodes);
    let nodes = markdown::from_json(&published).expect("a tree the packer wrote reads back");
    let props = LessonBodyProps { nodes, assets, lang: Lang::Fr };
    yew::Renderer::<LessonBody>::with_root_and_props(root.clone(), props).render();
    settle().await;
    root
}

fn all(root: &web_sys::Element, selector: &str) -> Vec<web_sys::Element> {
    let list = root.query_selector_all(selector).expect("a valid selector");
    (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect()
}

#[wasm_bindgen_test]
async fn a_lesson_renders_text_tables_and_verified_pictures() {
    let source =
        "# La loi d'Ohm\n\nU = R × I\n\n| U (V) | I (A) |\n|---|---|\n| 6 | 0,2 |\n\n![Le circuit](../images/c.png)\n";
    let root = render(source, &[("images/c.png", "blob:http://localhost/verified")]).await;
    assert_eq!(all(&root, "h1")[0].text_content().as_deref(), Some("La loi d'Ohm"));
    assert_eq!(all(&root, "thead th").len(), 2);
    assert_eq!(all(&root, "tbody td").len(), 2);
    let image = &all(&root, "img")[0];
    assert_eq!(image.get_attribute("src").as_deref(), Some("blob:http://localhost/verified"));
    assert_eq!(image.get_attribute("alt").as_deref(), Some("Le circuit"));
}

#[wasm_bindgen_test]
async fn hostile_markdown_renders_inert() {
    let source = "# Piège\n\n<script>window.pwned = 1</script>\n\n<img src=x onerror=\"window.pwned = 2\">\n\n\
        [a](javascript:window.pwned=3) [b](JAVASCRIPT:alert(1)) [c](data:text/html,<script>alert(1)</script>)\n\n\
        ![d](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+) ![e](https://pixel.example/p.png)\n\n\
        <iframe src=\"https://evil.example\"></iframe> <a href=\"javascript:alert(1)\" onclick=\"alert(1)\">f</a>\n\n\
        [sûr](https://www.education.gouv.fr/)\n";
    let root = render(source, &[]).await;
    settle().await;
    assert!(all(&root, "script, iframe, style, object, embed, svg, img").is_empty(), "{}", root.inner_html());
    for element in all(&root, "*") {
        for name in element.get_attribute_names().iter().filter_map(|n| n.as_string()) {
            assert!(!name.starts_with("on"), "event attribute {name} in {}", root.inner_html());
        }
    }
    let hrefs: Vec<String> = all(&root, "a").iter().filter_map(|a| a.get_attribute("href")).collect();
    assert_eq!(hrefs, ["https://www.education.gouv.fr/"]);
    let pwned = js_sys::Reflect::get(&js_sys::global(), &"pwned".into()).expect("readable global");
    assert!(pwned.is_undefined(), "a payload ran");
    assert!(root.text_content().unwrap_or_default().contains("Piège"));
}

#[wasm_bindgen_test]
async fn an_unreachable_origin_is_reported_as_such() {
    let key = SecretKey::from_seed([3; 32]).public();
    // Port 9 (discard) is closed on loopback: the fetch fails without an answer.
    let error = Course::open("http://127.0.0.1:9/courses/x/manifest.json", &Default::default(), key).await.err();
    assert!(matches!(error, Some(LoadError::Unreachable(_))), "{error:?}");
}

#[wasm_bindgen_test]
async fn a_file_that_is_not_a_manifest_is_not_a_course() {
    let key = SecretKey::from_seed([3; 32]).public();
    // The test runner serves the crate folder: Cargo.toml is there, and is no manifest.
    let error = Course::open("/Cargo.toml", &Default::default(), key).await.err();
    assert!(matches!(error, Some(LoadError::Unverified(_))), "{error:?}");
}

#[wasm_bindgen_test]
fn routes_round_trip_through_the_fragment() {
    for route in [Route::Home, Route::Lesson(0), Route::Lesson(9), Route::Exercises(1), Route::Agenda, Route::Work] {
        assert_eq!(Route::parse(&route.href()), route);
    }
    assert_eq!(Route::parse("#/lecon/0"), Route::Home);
    assert_eq!(Route::parse("#/lecon/2/exercices"), Route::Exercises(1));
    assert_eq!(Route::parse("#/lecon/2/autre"), Route::Home);
    assert_eq!(Route::parse("#/lecon/0/exercices"), Route::Home);
}

// See: issue 5
#[wasm_bindgen_test]
fn the_school_decides_before_the_pupil_and_the_page_tracker_wins() {
    use cartable::sharing::{self, Sharing};
    use cartable_core::manifest::PeerPolicy;
    let (on, off) = (PeerPolicy::default(), PeerPolicy { sharing: false, ..PeerPolicy::default() });
    let tracker = Some("ws://tracker.example/");
    assert_eq!(Sharing::decide(tracker, &on, true), Sharing::On);
    assert_eq!(Sharing::decide(tracker, &on, false), Sharing::OffByPupil);
    assert_eq!(Sharing::decide(tracker, &off, true), Sharing::OffBySchool);
    assert_eq!(Sharing::decide(tracker, &off, false), Sharing::OffBySchool);
    assert_eq!(Sharing::decide(None, &on, true), Sharing::NoTracker);
    let listed = ["wss://first.example/".to_owned(), "wss://second.example/".to_owned()];
    assert_eq!(sharing::tracker(Some("ws://page.example/"), &listed).as_deref(), Some("ws://page.example/"));
    assert_eq!(sharing::tracker(None, &listed).as_deref(), Some("wss://first.example/"));
    assert_eq!(sharing::tracker(None, &[]), None);
}

#[wasm_bindgen_test]
fn the_pupils_switch_is_kept_in_this_browser() {
    use cartable::sharing;
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).expect("localStorage");
    assert!(sharing::set_pupil_shares(false));
    assert_eq!(storage.get_item("cartable.peers").ok().flatten().as_deref(), Some("off"));
    assert!(!sharing::pupil_shares());
    assert!(sharing::set_pupil_shares(true));
    assert_eq!(storage.get_item("cartable.peers").ok().flatten(), None);
    assert!(sharing::pupil_shares());
}

// See: issue 16: sizes in words, without float formatting.
#[wasm_bindgen_test]
fn a_byte_count_reads_in_tenths_with_the_language_s_separator() {
    use cartable::i18n::bytes;
    assert_eq!(bytes(0, Lang::Fr), "0 o");
    assert_eq!(bytes(999, Lang::En), "999 B");
    assert_eq!(bytes(1_000, Lang::Fr), "1,0 ko");
    assert_eq!(bytes(1_449, Lang::En), "1.4 kB");
    assert_eq!(bytes(1_450, Lang::En), "1.5 kB");
    assert_eq!(bytes(28_049_999, Lang::Fr), "28,0 Mo");
    assert_eq!(bytes(28_050_000, Lang::Fr), "28,1 Mo");
    assert_eq!(bytes(999_999_999, Lang::En), "1000.0 MB");
    assert_eq!(bytes(3_200_000_000, Lang::Fr), "3,2 Go");
    assert_eq!(bytes(u64::MAX, Lang::En), "18446744073.7 GB");
}

#[wasm_bindgen_test]
async fn webcrypto_checks_manifest_signatures_as_the_core_does() {
    use cartable_core::key::SignatureCheck;
    let key = SecretKey::from_seed([3; 32]);
    let signature = key.sign(b"canonical bytes");
    let check = |message: &'static [u8], signer: &SecretKey| {
        cartable::signature::Browser.check(signer.public(), message, signature)
    };
    assert_eq!(check(b"canonical bytes", &key).await, Some(true));
    assert_eq!(check(b"canonical byteS", &key).await, Some(false), "other bytes");
    assert_eq!(check(b"canonical bytes", &SecretKey::from_seed([4; 32])).await, Some(false), "another key");
}
