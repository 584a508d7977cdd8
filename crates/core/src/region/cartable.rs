//! The cartable client: the page's save loop, [`Saving`], carried out step by step. Each chunk a
//! student misses is asked of the classmates who hold it, handed to the student's [`Scheduler`] when the
//! lottery says it is this page's turn (saying `Fetching`, which its classmates' lotteries hear), or left
//! to wait until the time the loop names; a page is also woken the moment a classmate first holds a
//! chunk (its `Have`). A student out of reach of classmates settles alone and fetches every chunk. The
//! scheduler, the lottery and the loop are the core's own, one each per student present: what differs
//! from the page is only how answers arrive.

use super::engine::{Client, Engine, Event, Link};
use super::links::{held_by_links, peer_id};
use super::opening::{Opening, MANIFEST};
use super::world::{transfer_ms, Answer};
use crate::fetch::{AttemptId, Config, Millis, OriginState, Outcome, Scheduler, SourceId, SourceKind};
use crate::peer::lottery::Rules;
use crate::peer::saving::{self, Held, Saving, Settling, Step, MAX_LINKS};

/// How long a pupil whose page shows an error (no manifest, or a chunk no source could give) waits before
/// pressing "Réessayer".
pub(super) const RETRY_BY_HAND: Millis = 30_000;
/// The bit that marks a request as an ask of classmates, apart from the scheduler's attempts.
pub(super) const ASK: u64 = 1 << 63;

/// A cartable student's page while it saves the course.
pub(super) struct Saver {
    scheduler: Scheduler,
    pub(super) saving: Saving,
    /// Chunks handed to the scheduler so far, one bit each.
    given: u64,
    /// Chunks asked of classmates, not answered yet, one bit each.
    asking: u64,
    /// Asks made so far (their ids).
    asks: u64,
    pub(super) requests: Vec<Request>,
    poll_at: Option<Millis>,
    /// The origin has refused this page, or left it unanswered, before.
    pub(super) refused: bool,
    /// The save stopped (a chunk no source could give): the pupil presses "Réessayer" at this time.
    stopped_until: Option<Millis>,
    /// Getting the manifest, before the page can join the swarm and save.
    pub(super) opening: Option<Opening>,
    /// The page holds an earlier version of the course ([`super::Region::returning`]).
    pub(super) returning: bool,
}

/// A request in flight, and the answer its source decided on when it arrived.
pub(super) struct Request {
    id: u64,
    source: usize,
    chunk: usize,
    first_byte: Millis,
    end: Millis,
    answer: Answer,
    /// Through the school's TURN relay.
    relayed: bool,
    /// The classmate sending it, for a request to classmates.
    holder: Option<u32>,
}

impl Request {
    /// A request for the manifest to `source`, answered with `answer` at `end`.
    pub(super) fn manifest(id: u64, source: usize, end: Millis, answer: Answer) -> Request {
        Request { id, source, chunk: 0, first_byte: end, end, answer, relayed: false, holder: None }
    }
}

impl Saver {
    /// Classmate `holder` left while sending request `id`: the request ends now, not given. Returns
    /// whether it went through the relay, `None` if no such request runs.
    pub(super) fn cut(&mut self, id: u64, holder: u32, now: Millis) -> Option<bool> {
        let request = self.requests.iter_mut().find(|request| request.id == id && request.holder == Some(holder))?;
        let relayed = std::mem::take(&mut request.relayed);
        (request.answer, request.first_byte, request.end) = (Answer::Absent, now, now);
        Some(relayed)
    }

    /// The chunk requests in flight: (source, chunk, when the answer ends, the classmate sending it).
    #[cfg(test)]
    pub(super) fn requested(&self) -> Vec<(usize, usize, Millis, Option<u32>)> {
        let chunks = self.requests.iter().filter(|request| request.id & MANIFEST == 0);
        chunks.map(|request| (request.source, request.chunk, request.end, request.holder)).collect()
    }

    /// This page's requests in flight on each of `links`.
    fn in_flight(&self, links: &[Link]) -> [usize; MAX_LINKS] {
        let mut in_flight = [0; MAX_LINKS];
        for (count, link) in in_flight.iter_mut().zip(links) {
            *count = self.requests.iter().filter(|request| request.holder == Some(link.peer)).count();
        }
        in_flight
    }
}

/// What a page's steps read of its student.
#[derive(Clone, Copy)]
struct View {
    class: usize,
    reachable: bool,
    /// Linked to a classmate at least.
    linked: bool,
    has: u64,
}

impl Engine<'_> {
    /// A new page: the origin, the mirrors and, if classmates can reach the student, the classmates as one
    /// peer source. Its save loop starts when it joins.
    pub(super) fn saver(&self, reachable: bool, returning: bool) -> Saver {
        Saver {
            scheduler: self.scheduler(reachable),
            saving: Saving::default(),
            given: 0,
            asking: 0,
            asks: 0,
            requests: Vec::new(),
            poll_at: None,
            refused: false,
            stopped_until: None,
            opening: Some(Opening::default()),
            returning,
        }
    }

    fn scheduler(&self, reachable: bool) -> Scheduler {
        let mut kinds = vec![SourceKind::Origin];
        kinds.extend(self.region.mirrors.iter().map(|_| SourceKind::Mirror));
        if reachable {
            kinds.push(SourceKind::Peer);
        }
        Scheduler::new(&kinds, Config::default())
    }

    /// The student joins the class's swarm (if reachable) and settles as the page does: links to
    /// classmates of the swarm present ([`super::links`]) open [`super::Region::peer_connect`] after the
    /// page opened, and the tracker counts every classmate present. The save loop starts once settled.
    /// Meanwhile the pupil reads the first lesson: its chunks are wanted at once (HTTP first, no lottery),
    /// from a classmate first when the origin refused the page as it opened (`saturated`), as
    /// `src/course.rs` does.
    pub(super) fn join(&mut self, index: u32, saturated: bool) {
        let (now, size, reading) = (self.now, self.region.chunk_size, self.region.reading_chunks.min(self.chunks));
        let Some(student) = self.students.get(index as usize).and_then(Option::as_ref) else { return };
        let (class, reachable) = (student.class, student.reachable);
        let Some(class) = self.classes.get_mut(class).and_then(Option::as_mut) else { return };
        class.present += 1;
        let lesson: Vec<_> = class.cids.iter().take(reading).map(|cid| (*cid, size)).collect();
        if reachable {
            class.members.push(index);
        }
        // Returning pages of the class waiting for today's manifest may now link to this one.
        let awaiting = std::mem::take(&mut class.awaiting_manifest);
        let others = class.present.saturating_sub(1);
        for waiting in awaiting {
            self.manifest_from_classmates(waiting);
        }
        let links = self.connect(index);
        let mut settling = Settling::new(!self.region.mirrors.is_empty());
        let connect = self.region.peer_connect;
        while !settling.settled(if settling.waited() >= connect { links } else { 0 }, Some(others)) {}
        let draws_from = now.saturating_add(settling.waited());
        if let Some(saver) = self.saver_of(index) {
            saver.saving = Saving::new(Rules::default(), draws_from);
            if saturated {
                saver.scheduler.spare_origin();
            }
            saver.given |= u64::MAX.checked_shr(64 - reading as u32).unwrap_or(0);
            saver.scheduler.want(lesson);
        }
        // At once, for the lesson; the save loop's steps then wait for `draws_from`.
        self.schedule_poll(index, now);
    }

    pub(super) fn schedule_poll(&mut self, index: u32, time: Millis) {
        let now = self.now;
        let Some(saver) = self.saver_of(index) else { return };
        if saver.poll_at.is_some_and(|at| at <= time && at >= now) {
            return;
        }
        saver.poll_at = Some(time);
        self.push(time, Event::Poll(index));
    }

    pub(super) fn poll(&mut self, index: u32) {
        let now = self.now;
        let Some(mut student) = self.students.get_mut(index as usize).and_then(Option::take) else { return };
        let linked = !student.links.is_empty();
        let view = View { class: student.class, reachable: student.reachable, linked, has: student.has };
        let links = std::mem::take(&mut student.links);
        if let Client::Saver(saver) = &mut student.client {
            // Otherwise superseded by an earlier poll.
            if saver.poll_at == Some(now) {
                saver.poll_at = None;
                // A page still opening asks the origin for the manifest again.
                if let Some(opening) = saver.opening.as_mut() {
                    opening.reload();
                    student.links = links;
                    self.students[index as usize] = Some(student);
                    return self.ask_manifest(index, &[0]);
                }
                let (asks, look_again) = self.step(index, view, saver, &links);
                for (chunk, holder) in asks {
                    let id = ASK | saver.asks;
                    saver.asks += 1;
                    let request = self.send((index, view, saver.refused), id, self.peer_source(), chunk, Some(holder));
                    saver.requests.push(request);
                }
                let (starts, wake) = self.poll_scheduler(index, saver, view);
                for (id, source, chunk) in starts {
                    // The page asks a linked classmate that holds the chunk and takes a request.
                    let holder = match source == self.peer_source() {
                        true => held_by_links(&links, &self.holdings(&links), &saver.in_flight(&links), 1 << chunk).1,
                        false => None,
                    };
                    let request = self.send((index, view, saver.refused), id, source, chunk, holder);
                    saver.requests.push(request);
                }
                student.links = links;
                self.students[index as usize] = Some(student);
                if let Some(wake) = [look_again, wake].into_iter().flatten().min() {
                    self.schedule_poll(index, wake);
                }
                return;
            }
        }
        student.links = links;
        self.students[index as usize] = Some(student);
    }

    /// The save loop's step for every chunk the page misses and has not started yet, as many at once as
    /// [`saving::at_once`] allows: the chunks to ask of classmates, each with the linked holder asked
    /// (the others went to the scheduler or wait), and when to look again for those left waiting. The
    /// page sees only its linked classmates: their `Have`, their `Fetching`, their tickets.
    fn step(
        &mut self,
        index: u32,
        student: View,
        saver: &mut Saver,
        links: &[Link],
    ) -> (Vec<(usize, Link)>, Option<Millis>) {
        let (now, size, peer, all) =
            (self.now, self.region.chunk_size, SourceId(self.peer_source()), self.all_chunks());
        if let Some(until) = saver.stopped_until.filter(|&until| now < until) {
            return (Vec::new(), Some(until));
        }
        saver.stopped_until = None;
        let mirrors = !self.region.mirrors.is_empty();
        let me = peer_id(index);
        let mut ids = [[0u8; 4]; MAX_LINKS];
        for (id, link) in ids.iter_mut().zip(links) {
            *id = peer_id(link.peer);
        }
        let ids = ids.get(..links.len()).unwrap_or_default();
        let mut classmates = [&[][..]; MAX_LINKS];
        for (classmate, id) in classmates.iter_mut().zip(ids) {
            *classmate = id.as_slice();
        }
        let classmates = classmates.get(..ids.len()).unwrap_or_default();
        let missing = (all & !student.has).count_ones() as usize;
        let at_once = saving::at_once(!classmates.is_empty(), mirrors, missing);
        let mut running = ((saver.given | saver.asking) & !student.has).count_ones() as usize;
        // Each link takes a few requests in flight: a page asking more than its holders take waits.
        let (mut in_flight, holdings) = (saver.in_flight(links), self.holdings(links));
        let (mut asks, mut look_again) = (Vec::new(), None::<Millis>);
        for chunk in 0..self.chunks {
            let bit = 1u64 << chunk;
            if (student.has | saver.asking) & bit != 0 {
                continue;
            }
            let (held, holder) = held_by_links(links, &holdings, &in_flight, bit);
            let Some(class) = self.classes.get_mut(student.class).and_then(Option::as_mut) else { break };
            let Some(&cid) = class.cids.get(chunk) else { break };
            if saver.given & bit != 0 {
                if held != Held::No {
                    saver.scheduler.held_by(peer, &cid); // handed over, and now a classmate has it
                }
                continue;
            }
            if running >= at_once {
                break;
            }
            // Linked classmates fetching it say so again every 2 s while they do: still saying so now.
            let linked = |other: &&u32| links.iter().any(|link| link.peer == **other);
            for &fetcher in class.fetchers.get(chunk).into_iter().flatten().filter(linked) {
                saver.saving.fetching(&peer_id(fetcher), cid, now);
            }
            match (saver.saving.step(&me, classmates, cid, held, now), holder) {
                (Step::Ask, Some(holder)) => {
                    saver.asking |= bit;
                    asks.push((chunk, holder));
                    running += 1;
                    if let Some(busy) =
                        links.iter().position(|link| *link == holder).and_then(|at| in_flight.get_mut(at))
                    {
                        *busy += 1;
                    }
                }
                // The loop asks only what a free holder has.
                (Step::Ask, None) => {}
                (Step::Fetch, _) => {
                    saver.scheduler.prefetch([(cid, size)]);
                    if held != Held::No {
                        saver.scheduler.held_by(peer, &cid);
                    }
                    saver.given |= bit;
                    running += 1;
                    if let Some(fetchers) = class.fetchers.get_mut(chunk).filter(|_| student.reachable) {
                        fetchers.push(index);
                    }
                }
                (Step::Wait(at), _) => look_again = Some(look_again.map_or(at, |earliest| earliest.min(at))),
            }
        }
        (asks, look_again)
    }

    /// Reports byte progress, polls the scheduler and carries out its cancels; returns what to start and
    /// when to poll again. A page whose save stopped is started again by hand.
    fn poll_scheduler(
        &mut self,
        index: u32,
        saver: &mut Saver,
        student: View,
    ) -> (Vec<(u64, usize, usize)>, Option<Millis>) {
        let (now, size) = (self.now, self.region.chunk_size);
        for request in &saver.requests {
            // Bytes come evenly from the first to the last, the latest of them now; a stalled answer's stop
            // halfway, the latest of them then.
            let span = request.end.saturating_sub(request.first_byte).max(1);
            let until = match request.answer {
                Answer::Bytes { .. } => now,
                Answer::Stalled => now.min(request.first_byte.saturating_add(span / 2)),
                _ => continue,
            };
            if until > request.first_byte {
                let bytes = (u128::from(size) * u128::from(until - request.first_byte) / u128::from(span)) as u64;
                saver.scheduler.progress(AttemptId(request.id), bytes.clamp(1, size), until);
            }
        }
        let random = &mut self.random;
        let mut plan = saver.scheduler.poll(now, &mut || random.next_f64());
        if self.figures.origin_protected_at.is_none() && saver.scheduler.origin_state() != OriginState::Healthy {
            self.figures.origin_protected_at = Some(now);
        }
        for id in plan.cancel {
            if let Some(position) = saver.requests.iter().position(|request| request.id == id.0) {
                let request = saver.requests.swap_remove(position);
                // Given up on a silent origin: it left this page unanswered.
                saver.refused |= request.source == 0 && matches!(request.answer, Answer::Stalled | Answer::Unanswered);
                self.figures.stalls_caught += u64::from(request.answer == Answer::Stalled);
                self.release(student.class, index, &request);
            }
            saver.scheduler.finish(id, Outcome::Cancelled, now);
        }
        // The page's fetcher fails a chunk no source can give any more (or every chunk, when the origin is
        // down and nothing stands in): the save stops, its `Fetching` announces with it, and the pupil
        // presses "Réessayer" half a minute later. The same scheduler goes on (breakers, `Retry-After`
        // and bans hold); what was not kept goes through the loop again.
        let pending = saver.given & !student.has;
        let class = self.classes.get_mut(student.class).and_then(Option::as_mut);
        let connected = student.linked;
        let failed = |cids: &[crate::Cid]| {
            let position = |cid| class.as_ref().and_then(|class| class.cids.iter().position(|known| known == cid));
            cids.iter().filter_map(position).any(|chunk| pending & (1 << chunk) != 0)
        };
        let stopped = pending != 0 && (saver.scheduler.stranded(connected) || failed(&saver.scheduler.failed()));
        if stopped {
            if let Some(class) = class {
                let announced = class.fetchers.iter_mut().enumerate().filter(|(chunk, _)| pending & (1 << chunk) != 0);
                for (_, fetchers) in announced {
                    fetchers.retain(|&fetcher| fetcher != index);
                }
            }
            saver.given &= student.has;
            let until = now + RETRY_BY_HAND;
            saver.stopped_until = Some(until);
            self.figures.restarts += 1;
            plan.wake_at = Some(plan.wake_at.map_or(until, |wake| wake.min(until)));
        }
        let cids = self.classes.get(student.class).and_then(Option::as_ref).map(|class| class.cids.as_slice());
        let starts = plan
            .start
            .iter()
            .filter_map(|attempt| {
                let chunk = cids?.iter().position(|cid| *cid == attempt.cid)?;
                Some((attempt.id.0, attempt.source.0, chunk))
            })
            .collect();
        (starts, plan.wake_at)
    }

    /// A request reaches its source, which decides now how it will answer. A request to classmates goes
    /// to `holder`, a linked classmate that holds the chunk (none: not held), which shares its upload
    /// among the transfers it is sending; one through the school's TURN relay also shares the relay's
    /// bandwidth with the class's other relayed transfers.
    fn send(
        &mut self,
        (index, student, refused): (u32, View, bool),
        id: u64,
        source: usize,
        chunk: usize,
        holder: Option<Link>,
    ) -> Request {
        let (now, size) = (self.now, self.region.chunk_size);
        let (answer, end, first_byte) = if source == self.peer_source() {
            self.send_from_classmate((index, student.class), id, chunk, holder)
        } else {
            let Some(decided) = self.ask_server(source, chunk, size, refused) else {
                let answer = Answer::Down;
                return Request { id, source, chunk, first_byte: now, end: now, answer, relayed: false, holder: None };
            };
            decided
        };
        // A stalled or unanswered request never ends by itself: the scheduler gives up on it (its stall or
        // request timeout) and cancels it.
        let (first_byte, end) = (now.saturating_add(first_byte), now.saturating_add(end.max(1)));
        if !matches!(answer, Answer::Stalled | Answer::Unanswered) {
            self.push(end, Event::Answer(index, id));
        }
        let sent = matches!(answer, Answer::Bytes { .. });
        let holder = holder.filter(|_| sent && source == self.peer_source());
        let relayed = holder.is_some_and(|link| link.relayed);
        Request { id, source, chunk, first_byte, end, answer, relayed, holder: holder.map(|link| link.peer) }
    }

    /// Linked classmate `holder` receives request `id` for chunk `chunk` from `index` (of class `class`):
    /// it sends it, from its upload shared with its other transfers (and the relay's bandwidth, through the
    /// relay); without a holder, or if it does not hold it, the answer is "not held".
    fn send_from_classmate(
        &mut self,
        (index, class): (u32, usize),
        id: u64,
        chunk: usize,
        holder: Option<Link>,
    ) -> (Answer, Millis, Millis) {
        let (size, turn, upload, latency) =
            (self.region.chunk_size, self.region.turn, self.region.peer_upload, self.region.peer_latency);
        let sender = holder.and_then(|link| Some((link, self.students.get_mut(link.peer as usize)?.as_mut()?)));
        let Some((link, sender)) = sender.filter(|(_, sender)| sender.has & (1 << chunk) != 0) else {
            return (Answer::Absent, latency, latency);
        };
        sender.uploads.push((index, id));
        let mut rate = upload / sender.uploads.len() as u64;
        if let Some(class) = self.classes.get_mut(class).and_then(Option::as_mut).filter(|_| link.relayed) {
            class.relayed += 1;
            rate = rate.min(turn.unwrap_or(rate) / class.relayed);
        }
        (Answer::Bytes { lie: false }, latency + transfer_ms(size, rate, 1), latency)
    }

    /// Server `source` receives a request for `size` bytes of chunk `chunk` now and decides its answer (see
    /// `Live::receive`); the origin counts it, from a page it `refused` before or not. `None` for no such
    /// server.
    pub(super) fn ask_server(
        &mut self,
        source: usize,
        chunk: usize,
        size: u64,
        refused: bool,
    ) -> Option<(Answer, Millis, Millis)> {
        let decided = self.servers.get_mut(source)?.receive(chunk, size, self.now);
        if source == 0 && decided.0 != Answer::Down {
            self.count_origin(1, u32::from(matches!(decided.0, Answer::Bytes { .. } | Answer::Stalled)), refused);
        }
        Some(decided)
    }

    /// An answer reaches the student, who checks the bytes against the chunk's CID before keeping them.
    pub(super) fn answer(&mut self, index: u32, id: u64) {
        let now = self.now;
        let Some(mut student) = self.students.get_mut(index as usize).and_then(Option::take) else { return };
        let found = match &mut student.client {
            Client::Saver(saver) => {
                saver.requests.iter().position(|request| request.id == id).map(|at| saver.requests.swap_remove(at))
            }
            _ => None,
        };
        let Some(request) = found else {
            self.students[index as usize] = Some(student);
            return; // cancelled meanwhile, or the page is done
        };
        self.release(student.class, index, &request);
        if id & MANIFEST != 0 {
            self.students[index as usize] = Some(student);
            return self.manifest_answered(index, request.source, request.answer);
        }
        let outcome = match request.answer {
            Answer::Bytes { lie } => match self.keep(&mut student, request.chunk, request.source, lie, true) {
                true => Outcome::Verified { bytes: self.region.chunk_size },
                false => Outcome::Corrupt,
            },
            Answer::Refused { retry_after_ms } => Outcome::Status { code: 503, retry_after_ms },
            Answer::Absent => Outcome::NotHeld,
            Answer::Down | Answer::Stalled | Answer::Unanswered => Outcome::NetworkError,
        };
        let Client::Saver(saver) = &mut student.client else {
            self.students[index as usize] = Some(student);
            return;
        };
        let verified = matches!(outcome, Outcome::Verified { .. });
        if id & ASK != 0 {
            saver.asking &= !(1 << request.chunk);
            let cid = self.classes.get(student.class).and_then(Option::as_ref).and_then(|c| c.cids.get(request.chunk));
            if let (false, Some(&cid)) = (verified, cid) {
                saver.saving.not_given(cid);
            }
        } else {
            saver.refused |= request.source == 0 && matches!(outcome, Outcome::Status { .. } | Outcome::NetworkError);
            saver.scheduler.finish(AttemptId(id), outcome, now);
        }
        let mut wake = Vec::new();
        if let Some(class) = self.classes.get_mut(student.class).and_then(Option::as_mut).filter(|_| verified) {
            if let Some(fetchers) = class.fetchers.get_mut(request.chunk) {
                fetchers.retain(|&fetcher| fetcher != index);
            }
        }
        if verified {
            // Linked classmates waiting for it, for whom it is the first linked holder, take it now (their
            // `Have` arrives). Those that fetch it already carry on.
            let bit = 1 << request.chunk;
            let misses = |peer: u32| match self.students.get(peer as usize) {
                Some(Some(other)) => match &other.client {
                    Client::Saver(saver) => (other.has | saver.given | saver.asking) & bit == 0,
                    _ => false,
                },
                _ => false,
            };
            let first =
                student.links.iter().filter(|link| misses(link.peer) && !self.linked_holder(link.peer, index, bit));
            wake = first.map(|link| link.peer).collect();
        }
        let complete = student.has == self.all_chunks();
        if complete {
            for request in std::mem::take(&mut saver.requests) {
                self.release(student.class, index, &request);
            }
            student.client = Client::Served;
        }
        let (arrived, reachable) = (student.arrived, student.reachable);
        self.students[index as usize] = Some(student);
        for member in wake.into_iter().filter(|&member| member != index) {
            self.schedule_poll(member, now);
        }
        if !complete {
            return self.schedule_poll(index, now);
        }
        self.finished(index, arrived);
        match reachable {
            true => {
                let stay = self.random.exponential(self.region.stay);
                self.push(now + stay, Event::Leave(index));
            }
            false => self.leave(index),
        }
    }

    /// A source stops sending an answer to student `index`.
    fn release(&mut self, class: usize, index: u32, request: &Request) {
        if !matches!(request.answer, Answer::Bytes { .. } | Answer::Stalled) {
            return;
        }
        if let Some(server) = self.servers.get_mut(request.source) {
            return server.release();
        }
        let holder = request.holder.and_then(|holder| self.students.get_mut(holder as usize)?.as_mut());
        if let Some(holder) = holder {
            holder.uploads.retain(|&upload| upload != (index, request.id));
        }
        let Some(class) = self.classes.get_mut(class).and_then(Option::as_mut) else { return };
        if request.relayed {
            class.relayed = class.relayed.saturating_sub(1);
        }
    }

    /// A leaving page's requests end with it.
    pub(super) fn abandon(&mut self, class: usize, index: u32, saver: &Saver) {
        for request in &saver.requests {
            self.release(class, index, request);
        }
    }
}
