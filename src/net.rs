//! HTTP fetches for the browser. Turns every failure into a [`FetchError`] at the call site; knows
//! nothing of trust (callers verify what comes back).

use gloo_net::http::Request;

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
    let no_answer = || FetchError::NoAnswer { url: url.to_owned() };
    let response = Request::get(url).send().await.map_err(|_| no_answer())?;
    if response.status() != 200 {
        return Err(FetchError::Status { url: url.to_owned(), status: response.status() });
    }
    response.binary().await.map_err(|_| no_answer())
}

/// `reference` resolved against `base`, as the browser resolves a link.
pub fn resolve(reference: &str, base: &str) -> Option<String> {
    web_sys::Url::new_with_base(reference, base).ok().map(|url| url.href())
}

/// The address of the current page, against which the embedding page's URLs are resolved.
pub fn page_url() -> String {
    web_sys::window().and_then(|window| window.location().href().ok()).unwrap_or_default()
}
