//! Building `Response`s in the worker.

use wasm_bindgen::JsValue;
use web_sys::{Headers, Response, ResponseInit};

/// A response with `status`, a body, a content type and extra headers.
pub fn bytes(
    status: u16,
    mut body: Vec<u8>,
    content_type: &str,
    extra: &[(&str, String)],
) -> Result<Response, JsValue> {
    let headers = Headers::new()?;
    headers.set("content-type", content_type)?;
    headers.set("content-length", &body.len().to_string())?;
    for (name, value) in extra {
        headers.set(name, value)?;
    }
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&headers);
    Response::new_with_opt_u8_array_and_init(Some(&mut body), &init)
}

/// The headers of a course file of `media_type` (`cartable_core::media::file_headers`), as extra headers.
pub fn file_headers(media_type: &str) -> Vec<(&'static str, String)> {
    cartable_core::media::file_headers(media_type).into_iter().map(|(name, value)| (name, value.to_owned())).collect()
}

/// A short plain-text answer with `status`; a network error if even that cannot be built.
pub fn text(status: u16, message: &str, extra: &[(&str, String)]) -> Response {
    bytes(status, message.as_bytes().to_vec(), "text/plain; charset=utf-8", extra).unwrap_or_else(|_| Response::error())
}
