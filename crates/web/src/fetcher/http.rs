//! One chunk attempt over HTTP: a GET that can be aborted, whose body is read piece by piece so that the
//! scheduler sees byte progress (a stalled answer is told apart from a slow one), and whose refusals keep
//! their status and `Retry-After`. Knows nothing of trust: the caller verifies the bytes.

use cartable_core::fetch::{retry_after_ms, Outcome};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader, Request, RequestCache, RequestInit, Response};

use crate::net::fetch_request;

/// GETs `url` under `signal`, calling `on_bytes` with the total received after each piece. The body when
/// the answer is a 200, else the [`Outcome`] to report (`Status` with its `Retry-After`, or
/// `NetworkError` for no answer, a dropped connection or an abort).
pub async fn get(url: &str, signal: &AbortSignal, on_bytes: impl FnMut(u64)) -> Result<Vec<u8>, Outcome> {
    get_with_cache(url, signal, RequestCache::Default, on_bytes).await
}

/// Like [`get`], using the HTTP cache as `cache` says (`ForceCache` takes a copy the page's own request
/// left there, with no request at all).
pub async fn get_with_cache(
    url: &str,
    signal: &AbortSignal,
    cache: RequestCache,
    on_bytes: impl FnMut(u64),
) -> Result<Vec<u8>, Outcome> {
    read_body(&get_response(url, signal, cache).await?, on_bytes).await
}

/// The answer to a GET of `url` when it is a 200, its body not read yet (its headers are); else the
/// [`Outcome`] to report, as [`get`] does.
pub async fn get_response(url: &str, signal: &AbortSignal, cache: RequestCache) -> Result<Response, Outcome> {
    let init = RequestInit::new();
    init.set_signal(Some(signal));
    init.set_cache(cache);
    let request = Request::new_with_str_and_init(url, &init).map_err(|_| Outcome::NetworkError)?;
    let response: Response =
        JsFuture::from(fetch_request(&request)).await.map_err(|_| Outcome::NetworkError)?.unchecked_into();
    if response.status() != 200 {
        let header = response.headers().get("retry-after").ok().flatten();
        let retry_after_ms = header.and_then(|value| retry_after_ms(&value, crate::clock::unix_ms() as i64));
        return Err(Outcome::Status { code: response.status(), retry_after_ms });
    }
    Ok(response)
}

/// The body of `response`, read piece by piece, calling `on_bytes` with the total received after each.
pub async fn read_body(response: &Response, mut on_bytes: impl FnMut(u64)) -> Result<Vec<u8>, Outcome> {
    let Some(body) = response.body() else { return Ok(Vec::new()) };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let piece = JsFuture::from(reader.read()).await.map_err(|_| Outcome::NetworkError)?;
        let done = js_sys::Reflect::get(&piece, &"done".into()).map(|done| done.is_truthy()).unwrap_or(true);
        if done {
            return Ok(bytes);
        }
        let value = js_sys::Reflect::get(&piece, &"value".into()).map_err(|_| Outcome::NetworkError)?;
        bytes.extend(value.unchecked_into::<js_sys::Uint8Array>().to_vec());
        on_bytes(bytes.len() as u64);
    }
}
