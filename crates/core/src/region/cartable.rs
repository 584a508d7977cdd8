//! The cartable client, as the page's save loop runs it: a chunk a classmate holds is asked of the
//! classmates; otherwise the swarm's lottery says whose turn it is to fetch it over HTTP, and the winner
//! hands it to its scheduler (saying `Fetching`, which its classmates' lotteries hear) while the others
//! look again a little later. A student out of reach of classmates hands every chunk to the scheduler at
//! once. Both the [`Scheduler`] and the [`Lottery`] are the core's own, one each per student present.

use super::engine::{Client, Engine, Event, Student};
use super::world::{transfer_ms, Answer};
use crate::fetch::{AttemptId, Config, Millis, OriginState, Outcome, Scheduler, SourceId, SourceKind};
use crate::peer::lottery::{Lottery, Rules, Turn};

/// How long a page waiting for a classmate's chunk waits before looking again. The page looks every
/// 400 ms; here a page is also woken the moment a classmate first holds the chunk, so looking again
/// serves only the lottery's own delays (1 s to confirm a win, 3 s of grace for a silent winner).
const LOOK_AGAIN: Millis = 1_000;
/// How long a pupil whose page gave up on every source waits before pressing "Réessayer".
const RETRY_BY_HAND: Millis = 30_000;

/// A cartable student's page while it saves the course.
pub(super) struct Saver {
    scheduler: Scheduler,
    /// The swarm's lottery, for a student classmates can reach.
    lottery: Option<Lottery>,
    /// Chunks handed to the scheduler so far, one bit each.
    given: u64,
    requests: Vec<Request>,
    poll_at: Option<Millis>,
    /// The origin has refused this page, or left it unanswered, before.
    refused: bool,
}

/// A request in flight, and the answer its source decided on when it arrived.
pub(super) struct Request {
    id: u64,
    source: usize,
    chunk: usize,
    first_byte: Millis,
    end: Millis,
    answer: Answer,
}

/// What a page's steps read of its student.
#[derive(Clone, Copy)]
struct View {
    class: usize,
    has: u64,
}

/// The id a student's page has in the swarm.
fn peer_id(student: u32) -> [u8; 4] {
    student.to_le_bytes()
}

impl Engine<'_> {
    /// A new page for a student of `class`: the origin, the mirrors and, if classmates can reach the
    /// student, the classmates as one peer source.
    pub(super) fn saver(&self, reachable: bool) -> Saver {
        Saver {
            scheduler: self.scheduler(reachable),
            lottery: reachable.then(|| Lottery::new(Rules::default())),
            given: 0,
            requests: Vec::new(),
            poll_at: None,
            refused: false,
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

    /// The student joins the class's swarm (if reachable) and starts saving.
    pub(super) fn join(&mut self, index: u32) {
        let Some(student) = self.students.get(index as usize).and_then(Option::as_ref) else { return };
        let (class, reachable) = (student.class, student.reachable);
        if reachable {
            if let Some(class) = self.classes.get_mut(class).and_then(Option::as_mut) {
                class.members.push(index);
            }
        }
        self.schedule_poll(index, self.now);
    }

    fn schedule_poll(&mut self, index: u32, time: Millis) {
        let now = self.now;
        let Some(Client::Saver(saver)) =
            self.students.get_mut(index as usize).and_then(Option::as_mut).map(|student| &mut student.client)
        else {
            return;
        };
        if saver.poll_at.is_some_and(|at| at <= time && at >= now) {
            return;
        }
        saver.poll_at = Some(time);
        self.push(time, Event::Poll(index));
    }

    pub(super) fn poll(&mut self, index: u32) {
        let now = self.now;
        let Some(mut student) = self.students.get_mut(index as usize).and_then(Option::take) else { return };
        let view = View { class: student.class, has: student.has };
        if let Client::Saver(saver) = &mut student.client {
            // Otherwise superseded by an earlier poll.
            if saver.poll_at == Some(now) {
                saver.poll_at = None;
                let look_again = self.hand_over(index, view, saver);
                let (starts, wake) = self.poll_scheduler(saver, view);
                for (id, source, chunk) in starts {
                    let request = self.send(view.class, (index, saver.refused), id, source, chunk);
                    saver.requests.push(request);
                }
                self.students[index as usize] = Some(student);
                if let Some(wake) = [look_again, wake].into_iter().flatten().min() {
                    self.schedule_poll(index, wake);
                }
                return;
            }
        }
        self.students[index as usize] = Some(student);
    }

    /// The save loop's step: every chunk not handed over yet goes to the scheduler if a classmate holds
    /// it (asked of the classmates) or if the lottery says it is this page's turn. Returns when to look
    /// again for chunks left waiting for a classmate.
    fn hand_over(&mut self, index: u32, student: View, saver: &mut Saver) -> Option<Millis> {
        let (now, size, peer, all) =
            (self.now, self.region.chunk_size, SourceId(self.peer_source()), self.all_chunks());
        let class = self.classes.get_mut(student.class).and_then(Option::as_mut)?;
        let Some(lottery) = saver.lottery.as_mut() else {
            let missing = (0..self.chunks).filter(|chunk| saver.given & (1 << chunk) == 0);
            let cids: Vec<_> = missing.filter_map(|chunk| class.cids.get(chunk).map(|cid| (*cid, size))).collect();
            saver.given = all;
            saver.scheduler.prefetch(cids);
            return None;
        };
        let me = peer_id(index);
        let ids: Vec<[u8; 4]> = class.members.iter().filter(|&&other| other != index).map(|&m| peer_id(m)).collect();
        let classmates: Vec<&[u8]> = ids.iter().map(|id| id.as_slice()).collect();
        let mut look_again = None;
        for chunk in 0..self.chunks {
            let bit = 1u64 << chunk;
            let (Some(&cid), Some(&holders)) = (class.cids.get(chunk), class.holders.get(chunk)) else { break };
            if (student.has | saver.given) & bit != 0 {
                if holders > 0 && student.has & bit == 0 {
                    saver.scheduler.held_by(peer, &cid); // handed over, and now a classmate has it
                }
                continue;
            }
            if holders > 0 {
                saver.scheduler.prefetch([(cid, size)]);
                saver.scheduler.held_by(peer, &cid);
                saver.given |= bit;
                continue;
            }
            // Classmates fetching it say so again every 2 s while they do: still saying so now.
            for &fetcher in class.fetchers.get(chunk).into_iter().flatten().filter(|&&other| other != index) {
                lottery.fetching(&peer_id(fetcher), cid, now);
            }
            match lottery.turn(&me, &classmates, cid, now) {
                Turn::Mine => {
                    saver.scheduler.prefetch([(cid, size)]);
                    saver.given |= bit;
                    if let Some(fetchers) = class.fetchers.get_mut(chunk) {
                        fetchers.push(index);
                    }
                }
                Turn::Confirming | Turn::Theirs(_) => look_again = Some(now + LOOK_AGAIN),
            }
        }
        look_again
    }

    /// Reports byte progress, polls the scheduler and carries out its cancels; returns what to start and
    /// when to poll again. A page left with nothing to try (every source failed) is restarted by hand.
    fn poll_scheduler(&mut self, saver: &mut Saver, student: View) -> (Vec<(u64, usize, usize)>, Option<Millis>) {
        let (now, size) = (self.now, self.region.chunk_size);
        for request in saver.requests.iter().filter(|request| matches!(request.answer, Answer::Bytes { .. })) {
            if now > request.first_byte {
                let span = request.end.saturating_sub(request.first_byte).max(1);
                let bytes = (u128::from(size) * u128::from(now - request.first_byte) / u128::from(span)) as u64;
                saver.scheduler.progress(AttemptId(request.id), bytes.clamp(1, size), now);
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
                self.release(student.class, &request);
            }
            saver.scheduler.finish(id, Outcome::Cancelled, now);
        }
        let stuck = saver.requests.is_empty() && plan.start.is_empty() && plan.wake_at.is_none();
        if stuck && saver.given & !student.has != 0 {
            // The page says every source failed; the pupil presses "Réessayer" half a minute later.
            let mut scheduler = self.scheduler(saver.lottery.is_some());
            if let Some(class) = self.classes.get(student.class).and_then(Option::as_ref) {
                let left = (0..self.chunks).filter(|chunk| saver.given & !student.has & (1 << chunk) != 0);
                scheduler.prefetch(left.filter_map(|chunk| class.cids.get(chunk).map(|cid| (*cid, size))));
            }
            saver.scheduler = scheduler;
            self.figures.restarts += 1;
            plan.wake_at = Some(now + RETRY_BY_HAND);
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

    /// A request reaches its source, which decides now how it will answer. Classmates holding the chunk
    /// share their upload among the classmates fetching it from them.
    fn send(&mut self, class: usize, (index, refused): (u32, bool), id: u64, source: usize, chunk: usize) -> Request {
        let (now, size) = (self.now, self.region.chunk_size);
        let (answer, end, first_byte) = if source == self.peer_source() {
            let (upload, latency) = (self.region.peer_upload, self.region.peer_latency);
            let swarm = self.classes.get_mut(class).and_then(Option::as_mut);
            match swarm.and_then(|class| Some((class.holders.get(chunk)?, class.peer_sending.get_mut(chunk)?))) {
                Some((&holders, sending)) if holders > 0 => {
                    *sending += 1;
                    let transfer = transfer_ms(size, upload.saturating_mul(u64::from(holders)), u64::from(*sending));
                    (Answer::Bytes { lie: false }, latency + transfer, latency)
                }
                _ => (Answer::Absent, latency, latency),
            }
        } else {
            let Some(server) = self.servers.get_mut(source) else {
                return Request { id, source, chunk, first_byte: now, end: now, answer: Answer::Down };
            };
            let decided = server.receive(chunk, size, now);
            if source == 0 && decided.0 != Answer::Down {
                self.count_origin(1, u32::from(matches!(decided.0, Answer::Bytes { .. })), refused);
            }
            decided
        };
        self.push(now + end.max(1), Event::Answer(index, id));
        Request { id, source, chunk, first_byte: now + first_byte, end: now + end.max(1), answer }
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
        self.release(student.class, &request);
        let outcome = match request.answer {
            Answer::Bytes { lie } => match self.keep(&mut student, request.chunk, request.source, lie, true) {
                true => Outcome::Verified { bytes: self.region.chunk_size },
                false => Outcome::Corrupt,
            },
            Answer::Refused { retry_after_ms } => Outcome::Status { code: 503, retry_after_ms },
            Answer::Absent => Outcome::NotHeld,
            Answer::Down => Outcome::NetworkError,
        };
        let Client::Saver(saver) = &mut student.client else {
            self.students[index as usize] = Some(student);
            return;
        };
        let verified = matches!(outcome, Outcome::Verified { .. });
        saver.refused |= request.source == 0 && matches!(outcome, Outcome::Status { .. } | Outcome::NetworkError);
        saver.scheduler.finish(AttemptId(id), outcome, now);
        let mut wake = Vec::new();
        if let Some(class) = self.classes.get_mut(student.class).and_then(Option::as_mut).filter(|_| verified) {
            if let Some(fetchers) = class.fetchers.get_mut(request.chunk) {
                fetchers.retain(|&fetcher| fetcher != index);
            }
            // The first classmate to hold it: those waiting for it take it now (their `Have` arrives).
            if student.reachable && class.holders.get(request.chunk) == Some(&1) {
                wake = class.members.clone();
            }
        }
        let complete = student.has == self.all_chunks();
        if complete {
            for request in std::mem::take(&mut saver.requests) {
                self.release(student.class, &request);
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

    /// A source stops sending an answer.
    fn release(&mut self, class: usize, request: &Request) {
        if !matches!(request.answer, Answer::Bytes { .. }) {
            return;
        }
        if let Some(server) = self.servers.get_mut(request.source) {
            return server.release();
        }
        let sending =
            self.classes.get_mut(class).and_then(Option::as_mut).and_then(|c| c.peer_sending.get_mut(request.chunk));
        if let Some(sending) = sending {
            *sending = sending.saturating_sub(1);
        }
    }

    /// A leaving page's requests end with it.
    pub(super) fn abandon(&mut self, class: usize, saver: &Saver) {
        for request in &saver.requests {
            self.release(class, request);
        }
    }

    /// A reachable student leaves the class's swarm: what they held is no longer offered, their
    /// `Fetching` announces stop, and every classmate's lottery forgets them.
    pub(super) fn quit_swarm(&mut self, index: u32, student: &Student) {
        let Some(class) = self.classes.get_mut(student.class).and_then(Option::as_mut) else { return };
        for (chunk, holders) in class.holders.iter_mut().enumerate() {
            if student.has & (1 << chunk) != 0 {
                *holders = holders.saturating_sub(1);
            }
        }
        for fetchers in &mut class.fetchers {
            fetchers.retain(|&fetcher| fetcher != index);
        }
        class.members.retain(|&member| member != index);
        let members = class.members.clone();
        for member in members {
            let client = self.students.get_mut(member as usize).and_then(Option::as_mut).map(|s| &mut s.client);
            if let Some(Client::Saver(saver)) = client {
                if let Some(lottery) = saver.lottery.as_mut() {
                    lottery.left(&peer_id(index));
                }
            }
        }
    }
}
