//! The browser's clocks and random numbers, read here and nowhere else (`clippy.toml` bans the rest, as
//! the `cartable` tool's `clock.rs` does natively): the core takes time and randomness as arguments, and
//! whoever reads a test or a trace knows where they come from.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Milliseconds since the Unix epoch on the device's wall clock (`Date.now()`): dates shown to the pupil,
/// receipts, expiry, `Retry-After` dates. It may jump; durations use [`monotonic_ms`].
#[allow(clippy::disallowed_methods)]
pub fn unix_ms() -> f64 {
    js_sys::Date::now()
}

/// Seconds since the Unix epoch (see [`unix_ms`]).
pub fn unix_s() -> i64 {
    (unix_ms() / 1000.0) as i64
}

/// Milliseconds on the monotonic clock of this page or worker, from its start (`performance.now()`): the
/// schedulers' time.
pub fn monotonic_ms() -> f64 {
    performance_now()
}

/// [`monotonic_ms`] in whole milliseconds, as the core's schedulers and peer sessions count time.
pub fn now() -> cartable_core::fetch::Millis {
    monotonic_ms() as cartable_core::fetch::Millis
}

/// Uniform in `[0, 1)` (`Math.random()`): jitter and peer ids, never a secret (keys and idempotency keys
/// come from `crypto.getRandomValues`).
#[allow(clippy::disallowed_methods)]
pub fn random() -> f64 {
    js_sys::Math::random()
}
