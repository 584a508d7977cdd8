//! A cartable student's page opening the course, before it can save anything, as
//! `crates/web/src/fetcher/manifest.rs` does: the manifest from the origin; when the origin refuses or does
//! not answer, from every mirror at once; when no mirror has it and the origin said it is busy, from the
//! origin again as the core's [`ManifestRetry`] paces it. A page that gets no manifest shows its error,
//! and the pupil presses "Réessayer" half a minute later; a page that saved the course before opens its
//! stored copy instead, joins the swarm with it and takes today's manifest from a linked classmate who
//! has it (`src/swarm.rs`: `AskManifest`). The manifest is signed: any copy will do, and no mirror or
//! classmate can forge one. Once it has it, the page joins its class's swarm and starts saving.

use super::cartable::{Request, RETRY_BY_HAND};
use super::engine::{Client, Engine};
use super::world::{transfer_ms, Answer};
use crate::fetch::{ManifestRetry, Millis, MANIFEST_WAIT};

/// The bit that marks a request as one for the manifest.
pub(super) const MANIFEST: u64 = 1 << 62;

/// Where a page stands in getting the manifest.
#[derive(Debug, Default)]
pub(super) struct Opening {
    phase: Phase,
    /// Manifest requests still running.
    pending: u32,
    /// Requests made so far (their ids).
    asked: u64,
}

#[derive(Debug, Default)]
enum Phase {
    /// Asking the origin first.
    #[default]
    Origin,
    /// Asking every mirror at once; the origin had refused (`saturated`, with its `Retry-After`) or not
    /// answered.
    Mirrors { saturated: bool, retry_after_ms: Option<u64> },
    /// Asking the busy origin again, after pauses.
    Patiently(ManifestRetry),
    /// Opened from the stored copy of an earlier version, in the swarm with it: today's manifest comes
    /// from a linked classmate who has it.
    FromClassmates,
}

impl Opening {
    /// The pupil reloads the page: it asks the origin first again.
    pub(super) fn reload(&mut self) {
        self.phase = Phase::Origin;
    }
}

/// What a page does after a manifest request ended without the manifest.
enum Next {
    AskMirrors,
    Pause,
    Fail,
    Wait,
}

impl Engine<'_> {
    /// Asks `servers` (0 the origin, then the mirrors) for the manifest at once. A stalled answer, or none,
    /// ends when the page stops waiting for it.
    pub(super) fn ask_manifest(&mut self, index: u32, servers: &[usize]) {
        let (now, size) = (self.now, self.region.manifest_bytes);
        let Some(refused) = self.saver_of(index).map(|saver| saver.refused) else { return };
        for &server in servers {
            let Some((answer, end, _)) = self.ask_server(server, 0, size, refused) else { continue };
            let end = match answer {
                Answer::Stalled | Answer::Unanswered => MANIFEST_WAIT,
                _ => end,
            };
            self.manifest_request(index, server, now + end.max(1), answer);
        }
    }

    /// A manifest request of page `index` to `source`, which ends at `end` with `answer`.
    fn manifest_request(&mut self, index: u32, source: usize, end: Millis, answer: Answer) {
        let Some(saver) = self.saver_of(index) else { return };
        let opening = saver.opening.get_or_insert_with(Opening::default);
        let id = MANIFEST | opening.asked;
        opening.asked += 1;
        opening.pending += 1;
        saver.requests.push(Request::manifest(id, source, end, answer));
        self.push(end, super::engine::Event::Answer(index, id));
    }

    /// A manifest request ended: with the manifest, the page joins the swarm and saves; otherwise the
    /// mirrors are asked, or the busy origin again after a pause, or the page shows its error.
    pub(super) fn manifest_answered(&mut self, index: u32, source: usize, answer: Answer) {
        let (now, mirrors) = (self.now, self.region.mirrors.len());
        let refused_by_origin = source == 0 && !matches!(answer, Answer::Bytes { .. });
        if refused_by_origin {
            self.figures.origin_protected_at.get_or_insert(now);
        }
        let Some(saver) = self.saver_of(index) else { return };
        saver.refused |= refused_by_origin;
        let Some(opening) = saver.opening.as_mut() else { return }; // opened already: a late copy
        opening.pending = opening.pending.saturating_sub(1);
        if let Answer::Bytes { .. } = answer {
            // The other copies still on their way end on their own (their servers count them until then).
            let saturated = matches!(
                opening.phase,
                Phase::Mirrors { saturated: true, .. } | Phase::Patiently(_) | Phase::FromClassmates
            );
            saver.opening = None;
            let came_back = source == 0 && saver.refused;
            if source == self.peer_source() {
                self.figures.manifest_from_classmates += 1;
            } else if came_back {
                self.figures.manifest_origin_after_refusal += 1;
            }
            return self.join(index, saturated);
        }
        let (refused, retry_after) = match answer {
            Answer::Refused { retry_after_ms } => (true, retry_after_ms),
            _ => (false, None),
        };
        let (phase, next) = match std::mem::take(&mut opening.phase) {
            Phase::Origin if mirrors > 0 => {
                (Phase::Mirrors { saturated: refused, retry_after_ms: retry_after }, Next::AskMirrors)
            }
            Phase::Origin if refused => (Phase::Patiently(ManifestRetry::after(retry_after)), Next::Pause),
            Phase::Mirrors { saturated, retry_after_ms } if opening.pending > 0 => {
                (Phase::Mirrors { saturated, retry_after_ms }, Next::Wait)
            }
            Phase::Mirrors { saturated: true, retry_after_ms } => {
                (Phase::Patiently(ManifestRetry::after(retry_after_ms)), Next::Pause)
            }
            Phase::Patiently(mut retry) => match answer {
                Answer::Refused { retry_after_ms } => {
                    retry.refused(retry_after_ms);
                    (Phase::Patiently(retry), Next::Pause)
                }
                _ => (Phase::Origin, Next::Fail),
            },
            _ => (Phase::Origin, Next::Fail),
        };
        opening.phase = phase;
        let returning = saver.returning;
        match next {
            Next::AskMirrors => self.ask_manifest(index, &(1..=mirrors).collect::<Vec<_>>()),
            Next::Pause => self.pause_manifest(index),
            Next::Fail if returning => self.open_stored_copy(index),
            Next::Fail => self.manifest_failed(index),
            Next::Wait => {}
        }
    }

    /// No server gave the manifest to a page holding an earlier version: it opens that copy, joins the
    /// swarm with it, and asks a linked classmate for today's manifest; with none yet, it waits for one
    /// to arrive, and the pupil reloads half a minute later.
    fn open_stored_copy(&mut self, index: u32) {
        if let Some(opening) = self.saver_of(index).and_then(|saver| saver.opening.as_mut()) {
            opening.phase = Phase::FromClassmates;
        }
        if !self.manifest_from_classmates(index) {
            let now = self.now;
            self.schedule_poll(index, now + RETRY_BY_HAND);
        }
    }

    /// A returning page in the swarm with its stored copy takes today's manifest from a classmate of the
    /// swarm it can link to: once the link is open, after a classmate's latency and the manifest's bytes
    /// from its upload. Without one, it waits in the class's list for the next to join. True when asked.
    pub(super) fn manifest_from_classmates(&mut self, index: u32) -> bool {
        let Some(student) = self.students.get(index as usize).and_then(Option::as_deref) else { return false };
        let (class, reachable, relayed) = (student.class, student.reachable, student.relayed);
        let Client::Saver(saver) = &student.client else { return false };
        if !matches!(saver.opening.as_ref().map(|opening| &opening.phase), Some(Phase::FromClassmates)) {
            return false;
        }
        let Some(members) = self.classes.get(class).and_then(Option::as_ref).map(|class| &class.members) else {
            return false;
        };
        let linkable = |&other: &u32| {
            let other_relayed = self.students.get(other as usize).and_then(Option::as_deref).map(|s| s.relayed);
            other_relayed.is_some_and(|other_relayed| self.pair(index, other, relayed, other_relayed).is_some())
        };
        let holder = reachable.then(|| members.iter().copied().find(linkable)).flatten();
        if holder.is_none() {
            if let Some(class) = self.classes.get_mut(class).and_then(Option::as_mut) {
                class.awaiting_manifest.push(index);
            }
            return false;
        }
        let (now, region) = (self.now, self.region);
        let end =
            now + region.peer_connect + region.peer_latency + transfer_ms(region.manifest_bytes, region.peer_upload, 1);
        self.manifest_request(index, self.peer_source(), end, Answer::Bytes { lie: false });
        true
    }

    /// Waits before asking the busy origin again; gives up once it was asked enough.
    fn pause_manifest(&mut self, index: u32) {
        let (now, random) = (self.now, self.random.next_f64());
        let pause =
            match self.saver_of(index).and_then(|saver| saver.opening.as_mut()).map(|opening| &mut opening.phase) {
                Some(Phase::Patiently(retry)) => retry.pause(random),
                _ => None,
            };
        match pause {
            Some(pause) => self.schedule_poll(index, now + pause.max(1)),
            None => self.manifest_failed(index),
        }
    }

    /// No manifest: the page shows its error; the pupil presses "Réessayer" half a minute later, which
    /// starts over from the origin.
    fn manifest_failed(&mut self, index: u32) {
        let now = self.now;
        if let Some(opening) = self.saver_of(index).and_then(|saver| saver.opening.as_mut()) {
            opening.phase = Phase::Origin;
        }
        self.figures.restarts += 1;
        self.schedule_poll(index, now + RETRY_BY_HAND);
    }
}
