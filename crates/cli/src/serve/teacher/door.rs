//! The teacher view's door: who comes in (the token as a bearer header, or a session the login form
//! opened), who is locked out for trying wrong tokens, and the session cookie. The cookie carries a
//! random session id, never the token, so a cookie that leaks is worth one session and can be dropped.
//! Pure: time and randomness are passed in; knows nothing of the register nor of the pages behind it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use axum::http::{header, HeaderMap};

use crate::serve::quota::{self, Quota, Rate};

/// The session cookie's name.
pub const COOKIE: &str = "cartable_teacher";
/// How long a session lasts: a school day.
const SESSION_MS: u64 = 12 * 3600 * 1000;
/// Sessions kept at most; past it the one nearest its end is dropped.
const MAX_SESSIONS: usize = 1024;
/// Wrong tokens one address may try: 10 a minute, then it waits (a 429 with `Retry-After`).
const WRONG_TRIES: Rate = Rate::per_minute(10);

/// Whether a request may come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The right token or a live session.
    Open,
    /// Neither: the login page.
    Shut,
    /// Too many wrong tokens from this address lately: come back in this many seconds.
    Locked(u64),
}

/// The token, the sessions opened with it, and the wrong tries per address.
pub struct Door {
    token: String,
    /// Session id → when it ends (ms, the caller's monotonic clock).
    sessions: Mutex<HashMap<String, u64>>,
    strikes: Quota,
}

impl Door {
    /// A door that opens to `token`.
    pub fn new(token: String) -> Door {
        Door { token, sessions: Mutex::new(HashMap::new()), strikes: Quota::new(WRONG_TRIES) }
    }

    /// Whether a request with `headers` from `address` (unknown: no lockout) may come in at `now`. A
    /// wrong bearer token counts against its address; a stale session cookie does not, since after a
    /// restart every teacher's browser still sends one.
    pub fn check(&self, address: Option<IpAddr>, headers: &HeaderMap, now: u64) -> Verdict {
        if let Some(seconds) = self.locked(address, now) {
            return Verdict::Locked(seconds);
        }
        let mut bearers = bearers(headers).peekable();
        let wrong_bearer = bearers.peek().is_some();
        if bearers.any(|given| same(given, &self.token)) || self.in_session(headers, now) {
            return Verdict::Open;
        }
        if wrong_bearer {
            self.strike(address, now);
        }
        Verdict::Shut
    }

    /// The login form's `body` from `address` at `now`: the id of a new session made of `random`, or
    /// why not (a wrong token counts against the address).
    pub fn login(&self, address: Option<IpAddr>, body: &[u8], now: u64, random: [u8; 16]) -> Result<String, Verdict> {
        if let Some(seconds) = self.locked(address, now) {
            return Err(Verdict::Locked(seconds));
        }
        if !same(&form_token(body), &self.token) {
            self.strike(address, now);
            return Err(Verdict::Shut);
        }
        let session = cartable_core::submission::key_from(random);
        // A map of ids to times, consistent whatever panicked while it was held.
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, ends| *ends > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(nearest) = sessions.iter().min_by_key(|(_, ends)| **ends).map(|(id, _)| id.clone()) {
                sessions.remove(&nearest);
            }
        }
        sessions.insert(session.clone(), now.saturating_add(SESSION_MS));
        Ok(session)
    }

    fn locked(&self, address: Option<IpAddr>, now: u64) -> Option<u64> {
        self.strikes.check(address?, now).err().map(quota::retry_after)
    }

    fn strike(&self, address: Option<IpAddr>, now: u64) {
        if let Some(address) = address {
            let _ = self.strikes.take(address, now);
        }
    }

    fn in_session(&self, headers: &HeaderMap, now: u64) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        cookies(headers).any(|given| sessions.get(given).is_some_and(|ends| *ends > now))
    }
}

/// The `Set-Cookie` value of `session`: HttpOnly, SameSite=Strict, for the teacher view only, and
/// `Secure` when the teacher came over HTTPS (a browser then never sends it in clear).
pub fn cookie(session: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={session}; Path={}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        super::PATH,
        SESSION_MS / 1000
    )
}

/// Whether the request reached the proxy in front of the server over HTTPS (`X-Forwarded-Proto` or
/// `Forwarded: proto=`): `cartable serve` itself speaks plain HTTP.
pub fn over_https(headers: &HeaderMap) -> bool {
    let values = |name| headers.get_all(name).into_iter().filter_map(|value| value.to_str().ok());
    let first_proto = values("x-forwarded-proto").next().and_then(|value| value.split(',').next());
    let forwarded = values(header::FORWARDED.as_str())
        .flat_map(|value| value.split([',', ';']))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("proto"))
        .map(|(_, proto)| proto.trim().trim_matches('"'));
    first_proto.or(forwarded).is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// Compares two secrets in time that depends on their lengths only, not on where they differ.
pub fn same(given: &str, token: &str) -> bool {
    let (given, token) = (given.as_bytes(), token.as_bytes());
    let differences = given.iter().zip(token).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    differences == 0 && given.len() == token.len() && !token.is_empty()
}

fn bearers(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok()?.strip_prefix("Bearer ").map(str::trim))
}

fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The `token` field of an `application/x-www-form-urlencoded` body.
fn form_token(body: &[u8]) -> String {
    let form = String::from_utf8_lossy(body);
    form.split('&').find_map(|pair| pair.strip_prefix("token=")).map(percent_decode).unwrap_or_default()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const HERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("s3cret", "s3cret"));
        for wrong in ["", "s3cre", "s3cret!", "S3cret", "x3cret"] {
            assert!(!same(wrong, "s3cret"), "{wrong}");
        }
        assert!(!same("", ""), "an empty token opens nothing");
        let door = Door::new("s3cret".into());
        assert_eq!(door.check(HERE, &HeaderMap::new(), 0), Verdict::Shut);
        assert_eq!(door.check(HERE, &with(header::AUTHORIZATION, "Bearer s3cret"), 0), Verdict::Open);
        let token_as_cookie = with(header::COOKIE, "a=b; cartable_teacher=s3cret");
        assert_eq!(door.check(HERE, &token_as_cookie, 0), Verdict::Shut, "the cookie holds a session, not the token");
    }

    #[test]
    fn a_login_opens_a_session_that_ends() {
        let door = Door::new("s3cret".into());
        assert_eq!(door.login(HERE, b"token=wrong", 0, [1; 16]), Err(Verdict::Shut));
        let session = door.login(HERE, b"x=1&token=s3cret", 0, [7; 16]).expect("the right token");
        assert_ne!(session, "s3cret");
        let cookie = with(header::COOKIE, &format!("{COOKIE}={session}"));
        assert_eq!(door.check(HERE, &cookie, SESSION_MS - 1), Verdict::Open);
        assert_eq!(door.check(HERE, &cookie, SESSION_MS), Verdict::Shut, "a session lasts a day");
        assert_eq!(door.check(None, &with(header::COOKIE, &format!("{COOKIE}=0707")), 0), Verdict::Shut);
    }

    #[test]
    fn ten_wrong_tokens_a_minute_lock_the_address_out() {
        let door = Door::new("s3cret".into());
        let wrong = with(header::AUTHORIZATION, "Bearer guess");
        for _ in 0..9 {
            assert_eq!(door.check(HERE, &wrong, 0), Verdict::Shut);
        }
        assert_eq!(door.login(HERE, b"token=guess", 0, [0; 16]), Err(Verdict::Shut));
        let right = with(header::AUTHORIZATION, "Bearer s3cret");
        assert_eq!(door.check(HERE, &right, 0), Verdict::Locked(6), "even the right token waits");
        assert_eq!(door.login(HERE, b"token=s3cret", 0, [0; 16]), Err(Verdict::Locked(6)));
        let elsewhere = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(door.check(elsewhere, &right, 0), Verdict::Open, "another address is not locked out");
        assert_eq!(door.check(HERE, &right, 6_000), Verdict::Open, "a token comes back");
        let stale = with(header::COOKIE, &format!("{COOKIE}=stale"));
        for _ in 0..20 {
            assert_eq!(door.check(elsewhere, &stale, 0), Verdict::Shut, "stale cookies are no strikes");
        }
    }

    #[test]
    fn cookies_are_secure_behind_https() {
        assert!(!cookie("ab", false).contains("Secure"));
        assert_eq!(
            cookie("ab", true),
            "cartable_teacher=ab; Path=/teacher; Max-Age=43200; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(over_https(&with(header::HeaderName::from_static("x-forwarded-proto"), "HTTPS")));
        assert!(over_https(&with(header::HeaderName::from_static("x-forwarded-proto"), "https, http")));
        assert!(!over_https(&with(header::HeaderName::from_static("x-forwarded-proto"), "http")));
        assert!(over_https(&with(header::FORWARDED, "for=192.0.2.1;proto=https;by=x")));
        assert!(over_https(&with(header::FORWARDED, "For=\"[2001:db8::1]\"; Proto=\"https\"")));
        assert!(!over_https(&with(header::FORWARDED, "for=192.0.2.1")));
        assert!(!over_https(&HeaderMap::new()));
    }

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(percent_decode("a%2Bb+c%zz"), "a+b c%zz");
        assert_eq!(form_token(b"token=s3%3Dcret&x=1"), "s3=cret");
        assert_eq!(form_token(b"x=1"), "");
    }
}
