//! The faults `cartable serve` can inject, to rehearse an overloaded or failing origin: the flags, their
//! checks, and the pure decisions (which request the faults cover, which to drop, which bytes to alter,
//! when a refused page tries again). No I/O and no clock here: `origin.rs` applies them.
//!
//! They cover every request the origin answers (pages, `/pkg/`, `sw.js`, courses, submissions, the
//! teacher view), since an overloaded school server fails the app shell too; `--spare-app` narrows
//! them to `/courses/`. Never covered: the statistics endpoint (the tests' instrument) and WebSocket
//! upgrades at `/tracker` (the signalling relay is another service, and a long-lived socket must not
//! hold one of the origin's request slots).

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use cartable_core::Cid;

/// The `Retry-After` seconds a refused page waits before it reloads when `--retry-after` is not given.
pub const DEFAULT_RETRY_AFTER: u64 = 2;

/// The fault flags of `cartable serve`, as typed on the command line.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Fault injection (the whole origin, app shell included, but /_cartable/stats and \
    /tracker's WebSocket; with --spare-app, /courses/ only)")]
pub struct FaultArgs {
    /// Beyond N requests in flight (received, not yet answered), refuse new ones at once: a page load
    /// (a navigation) gets a small page that reloads itself after Retry-After plus a random jitter.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub max_concurrent: Option<u64>,
    /// The status of a refusal beyond --max-concurrent: 503 (Service Unavailable) or 429 (Too Many Requests).
    #[arg(long, value_name = "STATUS", default_value = "503", value_parser = ["503", "429"], requires = "max_concurrent")]
    pub refuse_with: String,
    /// Send `Retry-After: SECONDS` with each refusal beyond --max-concurrent (a refused page waits 2 s,
    /// plus jitter, when it is not given).
    #[arg(long, value_name = "SECONDS", requires = "max_concurrent")]
    pub retry_after: Option<u64>,
    /// Milliseconds added before every answer (a slow origin).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    /// Send only the first BYTES bytes of each chunk body (a course's, or the app's under /pkg/ipfs/),
    /// then keep the connection open and silent (the full Content-Length is announced, so the client
    /// waits until it gives up).
    #[arg(long, value_name = "BYTES")]
    pub stall_after: Option<u64>,
    /// Drop the connection of every Nth request without answering (1 drops them all).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub drop_every: Option<u64>,
    /// Serve this chunk with some of its bytes altered, same length, uncompressed, so it no longer
    /// matches its CID (repeatable; the CID must be a chunk of a served course, or of the app in
    /// <pkg>/ipfs/).
    #[arg(long = "corrupt", value_name = "CID", value_parser = cid)]
    pub corrupt: Vec<Cid>,
    /// Start of an outage, in seconds after the server started (decimals allowed): during it, every
    /// request has its connection dropped without an answer. Needs --outage-for.
    #[arg(long, value_name = "SECS", value_parser = seconds, requires = "outage_for")]
    pub outage_from: Option<Duration>,
    /// Length of the outage in seconds (decimals allowed). Needs --outage-from.
    #[arg(long, value_name = "SECS", value_parser = seconds, requires = "outage_from")]
    pub outage_for: Option<Duration>,
    /// Answer the first N submissions posted with 503 and `Retry-After: 1`, without storing them.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub refuse_submissions: u64,
    /// Store every Nth new submission, then close its connection without answering: the receipt is lost on
    /// the way, as when a pupil's network drops at the wrong moment. A repeat of its key is answered.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub drop_response_every: Option<u64>,
    /// Spare the app: apply the faults above to answers under /courses/ only (submissions included),
    /// so that the pages, /pkg/ and sw.js stay healthy.
    #[arg(long)]
    pub spare_app: bool,
}

/// Faults injected into the requests they [cover](Faults::covers).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Delay before each answer.
    pub latency: Duration,
    /// How many requests may be in flight, and how the others are refused.
    pub capacity: Option<Capacity>,
    /// Bytes of each chunk body sent before the connection goes silent.
    pub stall_after: Option<u64>,
    /// Every Nth request is dropped.
    pub drop_every: Option<u64>,
    /// Chunks served with altered bytes.
    pub corrupt: BTreeSet<Cid>,
    /// A window, from the server's start, when requests are dropped.
    pub outage: Option<Outage>,
    /// The faults cover requests under `/courses/` only.
    pub spare_app: bool,
    /// The first this many submissions are refused with 503.
    pub refuse_submissions: u64,
    /// Every Nth submission is stored and its answer lost.
    pub drop_response_every: Option<u64>,
}

/// A limit on requests in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// Requests in flight at most.
    pub max: u64,
    /// 503 or 429.
    pub refusal: StatusCode,
    /// Seconds sent in `Retry-After`, if any.
    pub retry_after: Option<u64>,
}

/// A time window, measured from the server's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// When it starts.
    pub from: Duration,
    /// How long it lasts.
    pub length: Duration,
}

/// Why a request gets no answer at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// It came during the outage window.
    Outage,
    /// It was an Nth request of `--drop-every N`.
    Every,
}

impl From<FaultArgs> for Faults {
    fn from(args: FaultArgs) -> Faults {
        let refusal = match args.refuse_with.as_str() {
            "429" => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        let capacity = args.max_concurrent.map(|max| Capacity { max, refusal, retry_after: args.retry_after });
        let outage = args.outage_from.zip(args.outage_for).map(|(from, length)| Outage { from, length });
        Faults {
            latency: Duration::from_millis(args.latency),
            capacity,
            stall_after: args.stall_after,
            drop_every: args.drop_every,
            corrupt: args.corrupt.into_iter().collect(),
            outage,
            refuse_submissions: args.refuse_submissions,
            drop_response_every: args.drop_response_every,
            spare_app: args.spare_app,
        }
    }
}

impl Faults {
    /// Whether the faults apply to a request for `path` (the statistics endpoint and the tracker's
    /// WebSocket upgrades never reach this question): every path, or those under `/courses/` with
    /// `--spare-app`.
    pub fn covers(&self, path: &str) -> bool {
        !self.spare_app || path.starts_with("/courses/")
    }

    /// Whether the `nth` request the faults cover (counting from 1), received `elapsed` after the start,
    /// is dropped.
    pub fn drops(&self, nth: u64, elapsed: Duration) -> Option<Dropped> {
        let in_outage = self.outage.is_some_and(|o| elapsed >= o.from && elapsed - o.from < o.length);
        if in_outage {
            return Some(Dropped::Outage);
        }
        self.drop_every.filter(|&every| nth % every == 0).map(|_| Dropped::Every)
    }

    /// Whether the answer for `path` is a chunk to corrupt (one of `--corrupt`).
    pub fn corrupts(&self, path: &str) -> bool {
        chunk_cid(path).is_some_and(|cid| self.corrupt.contains(&cid))
    }
}

/// The CID of a chunk path, the bodies `--stall-after` and `--corrupt` spoil: a course's
/// `/courses/<id>/ipfs/<cid>` or the app's `/pkg/ipfs/<cid>`.
pub fn chunk_cid(path: &str) -> Option<Cid> {
    let (folder, cid) = path.rsplit_once("/ipfs/")?;
    let course = folder.strip_prefix("/courses/").is_some_and(|id| !id.is_empty() && !id.contains('/'));
    (course || folder == "/pkg").then(|| cid.parse::<Cid>().ok()).flatten()
}

/// How long a refused page waits before it reloads: `retry_after` plus `random` brought into 0 to
/// `retry_after` seconds, so that a class refused at once does not come back at once.
pub fn refresh_after(retry_after: u64, random: u64) -> u64 {
    retry_after.saturating_add(random % retry_after.saturating_add(1))
}

/// Alters `bytes` in place, keeping their length: the first byte and one in every 1024 are flipped, so
/// the damage shows in any chunk and in any 1 KiB window of it.
pub fn corrupt(bytes: &mut [u8]) {
    for byte in bytes.iter_mut().step_by(1024) {
        *byte ^= 0x55;
    }
}

fn at_least_one(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number, 1 or more".into()),
    }
}

fn seconds(text: &str) -> Result<Duration, String> {
    let value = text.parse::<f64>().map_err(|_| "expected a number of seconds, such as 30 or 2.5".to_owned())?;
    Duration::try_from_secs_f64(value).map_err(|_| "expected a number of seconds, 0 or more".to_owned())
}

fn cid(text: &str) -> Result<Cid, String> {
    text.parse::<Cid>().map_err(|error| format!("{error}: pass a chunk's CID, the name of a file in ipfs/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(drop_every: Option<u64>, outage: Option<(u64, u64)>) -> Faults {
        let outage = outage
            .map(|(from, length)| Outage { from: Duration::from_secs(from), length: Duration::from_secs(length) });
        Faults { drop_every, outage, ..Faults::default() }
    }

    #[track_caller]
    fn check(faults: &Faults, nth: u64, secs: u64, expected: Option<Dropped>) {
        assert_eq!(faults.drops(nth, Duration::from_secs(secs)), expected, "request {nth} at {secs} s");
    }

    #[test]
    fn drops_every_nth_request() {
        let every_third = faults(Some(3), None);
        check(&every_third, 1, 0, None);
        check(&every_third, 2, 0, None);
        check(&every_third, 3, 0, Some(Dropped::Every));
        check(&every_third, 6, 99, Some(Dropped::Every));
        check(&faults(Some(1), None), 1, 0, Some(Dropped::Every));
        check(&faults(None, None), 3, 0, None);
    }

    #[test]
    fn drops_everything_inside_the_outage_window_only() {
        let outage = faults(None, Some((10, 5)));
        check(&outage, 1, 9, None);
        check(&outage, 2, 10, Some(Dropped::Outage));
        check(&outage, 3, 14, Some(Dropped::Outage));
        check(&outage, 4, 15, None);
        check(&faults(Some(2), Some((0, 1))), 2, 0, Some(Dropped::Outage));
    }

    #[test]
    fn corruption_keeps_the_length_and_breaks_the_cid() {
        for len in [1, 2, 1023, 1024, 1025, 5000] {
            let original: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut bytes = original.clone();
            corrupt(&mut bytes);
            assert_eq!(bytes.len(), original.len());
            assert_ne!(bytes, original, "{len} bytes");
            assert!(!Cid::of(&original).matches(&bytes));
        }
        corrupt(&mut []);
    }

    #[test]
    fn corrupts_only_the_named_chunks() {
        let cid = Cid::of(b"chunk");
        let faults = Faults { corrupt: BTreeSet::from([cid]), ..Faults::default() };
        assert!(faults.corrupts(&format!("/courses/essai/ipfs/{cid}")));
        assert!(!faults.corrupts(&format!("/courses/essai/ipfs/{}", Cid::of(b"other"))));
        assert!(!faults.corrupts("/courses/essai/manifest.json"));
        assert!(faults.corrupts(&format!("/pkg/ipfs/{cid}")), "the app's chunks too");
    }

    #[track_caller]
    fn check_chunk(path: &str, expected: bool) {
        assert_eq!(chunk_cid(path).is_some(), expected, "{path}");
    }

    #[test]
    fn chunks_are_course_and_app_shell_chunks() {
        let cid = Cid::of(b"chunk");
        check_chunk(&format!("/courses/essai/ipfs/{cid}"), true);
        check_chunk(&format!("/pkg/ipfs/{cid}"), true);
        check_chunk(&format!("/pkg/ipfs/{cid}.br"), false);
        check_chunk(&format!("/courses//ipfs/{cid}"), false);
        check_chunk(&format!("/courses/a/b/ipfs/{cid}"), false);
        check_chunk(&format!("/pkg/x/ipfs/{cid}"), false);
        check_chunk(&format!("/ipfs/{cid}"), false);
        check_chunk("/courses/essai/ipfs/not-a-cid", false);
        check_chunk("/courses/essai/manifest.json", false);
    }

    #[test]
    fn the_faults_cover_the_whole_origin_unless_the_app_is_spared() {
        let (all, spared) = (Faults::default(), Faults { spare_app: true, ..Faults::default() });
        for path in ["/", "/index.html", "/pkg/cartable.js", "/sw.js", "/teacher"] {
            assert!(all.covers(path) && !spared.covers(path), "{path}");
        }
        for path in ["/courses/essai/manifest.json", "/courses/essai/submissions"] {
            assert!(all.covers(path) && spared.covers(path), "{path}");
        }
    }

    #[track_caller]
    fn check_refresh(retry_after: u64, random: u64, expected: u64) {
        assert_eq!(refresh_after(retry_after, random), expected, "{retry_after} s, draw {random}");
    }

    #[test]
    fn a_refused_page_waits_retry_after_plus_up_to_as_much_again() {
        check_refresh(2, 0, 2);
        check_refresh(2, 1, 3);
        check_refresh(2, 2, 4);
        check_refresh(2, 3, 2);
        check_refresh(7, u64::MAX, 7 + u64::MAX % 8);
        check_refresh(0, 12345, 0);
        check_refresh(u64::MAX, 5, u64::MAX);
    }
}
