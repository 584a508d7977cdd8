//! Reading a `Retry-After` header value into a delay. Pure: the caller passes the current unix time.

use crate::date::http_date_unix;

/// The delay a `Retry-After` header value asks for, in milliseconds: delta-seconds (`120`) or an
/// IMF-fixdate HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`) compared with `now_unix_ms`. A date in the
/// past gives `Some(0)`; anything else (empty, negative, fractional, another date form) gives `None`.
pub fn retry_after_ms(header: &str, now_unix_ms: i64) -> Option<u64> {
    let text = header.trim();
    if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
        // Too many digits saturate: such a wait is longer than any session anyway.
        let seconds: u64 = text.parse().unwrap_or(u64::MAX);
        return Some(seconds.saturating_mul(1000));
    }
    let at_ms = http_date_unix(text)?.saturating_mul(1000);
    Some(u64::try_from(at_ms.saturating_sub(now_unix_ms)).unwrap_or(0))
}
