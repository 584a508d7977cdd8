//! The course's manifest from the origin, or, when the origin refuses or does not answer in time, from the
//! mirrors: the signature makes any copy safe, and the newest valid, unexpired one wins.

use cartable_core::fetch::{ManifestRetry, OriginState, Outcome};
use cartable_core::key::SignatureCheck;
use cartable_core::{Manifest, PublicKey, SignedManifest, Trust};
use futures::future::join_all;

use super::Source;
use crate::net::{self, FetchError};

/// How long the origin has to send the manifest before the mirrors are asked, and each mirror its copy:
/// the core's `MANIFEST_WAIT`, which the region simulation waits too.
const WAIT_MS: u32 = cartable_core::fetch::MANIFEST_WAIT as u32;

/// A published manifest, as fetched.
pub struct Found {
    /// The `manifest.json` bytes (verified when they came from a mirror; the caller verifies them anyway).
    pub json: Vec<u8>,
    /// The mirror it came from; `None` for the origin.
    pub mirror: Option<Source>,
    /// How the origin answered.
    pub origin: OriginState,
}

/// The manifest at `origin` (an absolute URL) or else the newest copy on `mirrors` that verifies against
/// `key` (its signature checked by `check`) at time `now` and, when `course_id` is known, is that
/// course's. The origin's error when neither gives one.
pub async fn fetch(
    origin: &str,
    mirrors: &[Source],
    (key, check): (PublicKey, &dyn SignatureCheck),
    now: i64,
    course_id: Option<&str>,
) -> Result<Found, FetchError> {
    let signal = web_sys::AbortSignal::timeout_with_u32(WAIT_MS);
    // A refusal's `Retry-After` paces the origin's next asking, if no mirror has a copy.
    let (origin_error, retry_after_ms) = match super::http::get(origin, &signal, |_| {}).await {
        Ok(json) => return Ok(Found { json, mirror: None, origin: OriginState::Healthy }),
        Err(Outcome::Status { code, retry_after_ms }) => {
            (FetchError::Status { url: origin.to_owned(), status: code }, retry_after_ms)
        }
        Err(_) => (FetchError::NoAnswer { url: origin.to_owned() }, None),
    };
    let state = match origin_error {
        FetchError::Status { status: 503 | 429, .. } => OriginState::Saturated,
        _ => OriginState::Down,
    };
    let copies = join_all(mirrors.iter().map(|mirror| async move {
        let json = net::get_within(&format!("{}manifest.json", mirror.base), WAIT_MS).await.ok()?;
        let manifest = verify(&json, (key, check), now).await?;
        let wanted = course_id.is_none_or(|id| manifest.course.id == id);
        wanted.then_some((manifest.version, mirror, json))
    }))
    .await;
    let newest = copies.into_iter().flatten().max_by_key(|(version, _, _)| *version);
    match newest {
        Some((_, mirror, json)) => Ok(Found { json, mirror: Some(mirror.clone()), origin: state }),
        None if state == OriginState::Saturated => {
            let json = patiently(origin, retry_after_ms).await?;
            Ok(Found { json, mirror: None, origin: state })
        }
        None => Err(origin_error),
    }
}

/// The manifest from a saturated origin, asked again as the core's [`ManifestRetry`] says: a few times,
/// after full-jitter pauses that honour its `Retry-After` (`retry_after_ms` from its first refusal).
async fn patiently(origin: &str, retry_after_ms: Option<u64>) -> Result<Vec<u8>, FetchError> {
    let mut retry = ManifestRetry::after(retry_after_ms);
    while let Some(pause) = retry.pause(crate::clock::random()) {
        net::sleep(pause.min(i32::MAX as u64) as i32).await;
        let signal = web_sys::AbortSignal::timeout_with_u32(WAIT_MS);
        match super::http::get(origin, &signal, |_| {}).await {
            Ok(json) => return Ok(json),
            Err(Outcome::Status { code: 503 | 429, retry_after_ms }) => retry.refused(retry_after_ms),
            Err(Outcome::Status { code, .. }) => {
                return Err(FetchError::Status { url: origin.to_owned(), status: code })
            }
            Err(_) => return Err(FetchError::NoAnswer { url: origin.to_owned() }),
        }
    }
    Err(FetchError::Status { url: origin.to_owned(), status: 503 })
}

async fn verify(json: &[u8], (key, check): (PublicKey, &dyn SignatureCheck), now: i64) -> Option<Manifest> {
    SignedManifest::verify_with(json, &Trust { keys: &[key], now, accepted_version: None }, check).await.ok()
}
