//! HTTP fetches for the browser. Turns every failure into a [`FetchError`] at the call site; knows
//! nothing of trust (callers verify what comes back).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCache, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, the same in a page and in a worker.
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch_request(request: &Request) -> js_sys::Promise;
    // The global timers and monotonic clock, the same in a page and in a worker.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> i32;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: i32);
}

/// Why bytes could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No answer at all: offline, refused, DNS, CORS.
    #[error("no answer from {url}")]
    NoAnswer {
        /// What was asked for.
        url: String,
    },
    /// An answer other than 200.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// What was asked for.
        url: String,
        /// The HTTP status.
        status: u16,
    },
}

/// GETs `url` and returns its body; anything but a 200 is an error.
pub async fn get(url: &str) -> Result<Vec<u8>, FetchError> {
    fetch(url, RequestCache::Default, None).await.map(|(body, _)| body)
}

/// GETs `url` and returns its body if it all arrives within `timeout_ms`; anything but a 200 is an error,
/// and so is a slow answer (as no answer).
pub async fn get_within(url: &str, timeout_ms: u32) -> Result<Vec<u8>, FetchError> {
    fetch(url, RequestCache::Default, Some(timeout_ms)).await.map(|(body, _)| body)
}

/// GETs `url` bypassing the HTTP cache, and returns its body and media type; anything but a 200 is an
/// error.
pub async fn get_fresh(url: &str) -> Result<(Vec<u8>, String), FetchError> {
    fetch(url, RequestCache::Reload, None).await
}

async fn fetch(url: &str, cache: RequestCache, timeout_ms: Option<u32>) -> Result<(Vec<u8>, String), FetchError> {
    let no_answer = || FetchError::NoAnswer { url: url.to_owned() };
    let init = RequestInit::new();
    init.set_cache(cache);
    if let Some(timeout_ms) = timeout_ms {
        init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(timeout_ms)));
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(|_| no_answer())?;
    let response: Response = JsFuture::from(fetch_request(&request)).await.map_err(|_| no_answer())?.unchecked_into();
    if response.status() != 200 {
        return Err(FetchError::Status { url: url.to_owned(), status: response.status() });
    }
    let media_type = response.headers().get("content-type").ok().flatten().unwrap_or_default();
    let body = JsFuture::from(response.array_buffer().map_err(|_| no_answer())?).await.map_err(|_| no_answer())?;
    Ok((js_sys::Uint8Array::new(&body).to_vec(), media_type))
}

/// `reference` resolved against `base`, as the browser resolves a link.
pub fn resolve(reference: &str, base: &str) -> Option<String> {
    web_sys::Url::new_with_base(reference, base).ok().map(|url| url.href())
}

/// The address of the current page, against which the embedding page's URLs are resolved.
pub fn page_url() -> String {
    web_sys::window().and_then(|window| window.location().href().ok()).unwrap_or_default()
}

/// Resolves after `ms` milliseconds, in a page or in a worker.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// Calls `callback` once after `ms` milliseconds, in a page or in a worker; the handle cancels it with
/// [`cancel_timer`].
pub fn timer(callback: &js_sys::Function, ms: i32) -> i32 {
    set_timeout(callback, ms)
}

/// Cancels a [`timer`] that has not fired yet.
pub fn cancel_timer(handle: i32) {
    clear_timeout(handle);
}
