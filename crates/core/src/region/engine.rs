//! The discrete-event engine of a region's morning: arrivals (sorted in advance) and a queue of timed
//! events (polls, answers, students giving up), handled in time order, ties in the order they were
//! queued. A student exists only between arrival and completion (or giving up); the cartable policy's
//! students each drive their own [`Scheduler`].

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::world::{arrivals, payload, transfer_ms, Answer, Arrival, Class, Live, SplitMix};
use super::{Figures, Policy, Region, MINUTE};
use crate::fetch::{full_jitter, Config, Millis, Outcome, Scheduler, SourceId, SourceKind};

/// Runs `policy` over the morning of `region` with the random numbers of `seed`: the same seed gives the
/// same arrivals for every policy, and the same figures. `progress` is called with the virtual time at
/// every new minute, for a progress line. Courses of more than 64 chunks are cut to 64.
pub fn run(region: &Region, policy: Policy, seed: u64, progress: &mut dyn FnMut(Millis)) -> Figures {
    let mut engine = Engine::new(region, policy, seed);
    let horizon = region.horizon();
    let mut minute = 0;
    loop {
        let next_event = engine.queue.peek().map(|Reverse((time, _, _))| *time);
        let next_arrival = engine.arrivals.get(engine.next_arrival).map(|arrival| arrival.at);
        let (time, arrival) = match (next_event, next_arrival) {
            (Some(time), Some(at)) if time < at => (time, false),
            (_, Some(at)) => (at, true),
            (Some(time), None) => (time, false),
            (None, None) => break,
        };
        if time > horizon {
            break;
        }
        engine.now = time;
        engine.figures.events += 1;
        if time / MINUTE != minute {
            minute = time / MINUTE;
            progress(time);
        }
        if arrival {
            engine.arrive();
        } else if let Some(Reverse((_, _, event))) = engine.queue.pop() {
            match event {
                Event::Poll(student) => engine.poll(student),
                Event::Answer(student, id) => engine.answer(student, id),
                Event::GiveUp(student) => engine.leave(student),
            }
        }
    }
    for student in 0..engine.students.len() {
        engine.leave(student);
    }
    engine.figures
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Poll(usize),
    Answer(usize, u64),
    GiveUp(usize),
}

/// A present student.
struct Student {
    index: usize,
    class: usize,
    reachable: bool,
    arrived: Millis,
    /// The chunks verified so far, one bit each.
    has: u64,
    requests: Vec<Request>,
    poll_at: Option<Millis>,
    client: Client,
}

enum Client {
    Scheduler(Box<Scheduler>),
    Plain(Plain),
}

/// The state of a naive or backoff-only client: per chunk, when it may be asked again and its failures.
struct Plain {
    ready_at: Vec<Millis>,
    failures: Vec<u32>,
    next_id: u64,
}

/// A request in flight, and the answer its source decided on when it arrived.
struct Request {
    id: u64,
    source: usize,
    chunk: usize,
    first_byte: Millis,
    end: Millis,
    answer: Answer,
}

struct Engine<'a> {
    region: &'a Region,
    policy: Policy,
    now: Millis,
    random: SplitMix,
    queue: BinaryHeap<Reverse<(Millis, u64, Event)>>,
    seq: u64,
    arrivals: Vec<Arrival>,
    next_arrival: usize,
    classes: Vec<Option<Class>>,
    students: Vec<Option<Student>>,
    /// The origin, then the mirrors; a reachable student's classmates come after them as one source.
    servers: Vec<Live>,
    chunks: usize,
    present: usize,
    figures: Figures,
}

impl<'a> Engine<'a> {
    fn new(region: &'a Region, policy: Policy, seed: u64) -> Engine<'a> {
        let arrivals = arrivals(region, &mut SplitMix(seed));
        let seconds = (region.horizon() / 1000) as usize + 1;
        let classes = region.students.div_ceil(region.class_size.max(1));
        let servers = std::iter::once(&region.origin).chain(&region.mirrors).map(Live::new).collect();
        Engine {
            region,
            policy,
            now: 0,
            random: SplitMix(seed ^ 0x05ee_d0fc_1a55 ^ (policy as u64).wrapping_mul(0x9e37_79b9)),
            queue: BinaryHeap::new(),
            seq: 0,
            students: (0..arrivals.len()).map(|_| None).collect(),
            arrivals,
            next_arrival: 0,
            classes: (0..classes).map(|_| None).collect(),
            servers,
            chunks: region.chunks.min(64),
            present: 0,
            figures: Figures {
                policy: Some(policy),
                finished: vec![None; region.students],
                origin_offered: vec![0; seconds],
                origin_accepted: vec![0; seconds],
                origin_rps: region.origin.rps,
                ..Figures::default()
            },
        }
    }

    fn push(&mut self, time: Millis, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((time, self.seq, event)));
    }

    fn peer_source(&self) -> usize {
        self.servers.len()
    }

    fn arrive(&mut self) {
        let index = self.next_arrival;
        self.next_arrival += 1;
        let Some(&Arrival { at, class, reachable }) = self.arrivals.get(index) else { return };
        let chunks = self.chunks;
        let course = match self.classes.get_mut(class) {
            Some(slot) => slot.get_or_insert_with(|| Class::new(class, chunks)),
            None => return,
        };
        let client = match self.policy {
            Policy::Cartable => {
                let mut kinds = vec![SourceKind::Origin];
                kinds.extend(self.region.mirrors.iter().map(|_| SourceKind::Mirror));
                if reachable {
                    kinds.push(SourceKind::Peer);
                }
                let mut scheduler = Scheduler::new(&kinds, Config::default());
                // Saving the course for later: classmates who hold a chunk are asked before the origin.
                scheduler.prefetch(course.cids.iter().map(|cid| (*cid, self.region.chunk_size)));
                if reachable {
                    for (cid, _) in course.cids.iter().zip(&course.holders).filter(|(_, &holders)| holders > 0) {
                        scheduler.held_by(SourceId(kinds.len() - 1), cid);
                    }
                }
                Client::Scheduler(Box::new(scheduler))
            }
            Policy::Naive | Policy::Backoff => {
                Client::Plain(Plain { ready_at: vec![at; chunks], failures: vec![0; chunks], next_id: 0 })
            }
        };
        let student =
            Student { index, class, reachable, arrived: at, has: 0, requests: Vec::new(), poll_at: None, client };
        if let Some(slot) = self.students.get_mut(index) {
            *slot = Some(student);
        }
        self.present += 1;
        self.figures.peak_present = self.figures.peak_present.max(self.present);
        self.push(at.saturating_add(self.region.patience), Event::GiveUp(index));
        self.schedule_poll(index, at);
    }

    fn schedule_poll(&mut self, index: usize, time: Millis) {
        let now = self.now;
        let Some(student) = self.students.get_mut(index).and_then(Option::as_mut) else { return };
        if student.poll_at.is_some_and(|at| at <= time && at >= now) {
            return;
        }
        student.poll_at = Some(time);
        self.push(time, Event::Poll(index));
    }

    fn poll(&mut self, index: usize) {
        let now = self.now;
        let Some(mut student) = self.students.get_mut(index).and_then(Option::take) else { return };
        if student.poll_at != Some(now) {
            self.students[index] = Some(student);
            return; // superseded by an earlier poll
        }
        student.poll_at = None;
        let (starts, wake) = match &mut student.client {
            Client::Scheduler(scheduler) => self.poll_scheduler(scheduler, &mut student.requests, student.class),
            Client::Plain(plain) => self.poll_plain(plain, student.has, &student.requests),
        };
        for (id, source, chunk) in starts {
            let request = self.send(&student, id, source, chunk);
            student.requests.push(request);
        }
        self.students[index] = Some(student);
        if let Some(wake) = wake {
            self.schedule_poll(index, wake);
        }
    }

    /// Reports byte progress, polls the scheduler and carries out its cancels; returns what to start.
    fn poll_scheduler(
        &mut self,
        scheduler: &mut Scheduler,
        requests: &mut Vec<Request>,
        class: usize,
    ) -> (Vec<(u64, usize, usize)>, Option<Millis>) {
        let (now, size) = (self.now, self.region.chunk_size);
        for request in requests.iter().filter(|request| matches!(request.answer, Answer::Bytes { .. })) {
            if now > request.first_byte {
                let span = request.end.saturating_sub(request.first_byte).max(1);
                let bytes = (u128::from(size) * u128::from(now - request.first_byte) / u128::from(span)) as u64;
                scheduler.progress(crate::fetch::AttemptId(request.id), bytes.clamp(1, size), now);
            }
        }
        let random = &mut self.random;
        let plan = scheduler.poll(now, &mut || random.next_f64());
        if self.figures.origin_protected_at.is_none() && scheduler.origin_state() != crate::fetch::OriginState::Healthy
        {
            self.figures.origin_protected_at = Some(now);
        }
        for id in plan.cancel {
            if let Some(position) = requests.iter().position(|request| request.id == id.0) {
                let request = requests.swap_remove(position);
                self.release(&request);
            }
            scheduler.finish(id, Outcome::Cancelled, now);
        }
        let cids =
            self.classes.get(class).and_then(Option::as_ref).map(|class| class.cids.as_slice()).unwrap_or_default();
        let starts = plan
            .start
            .iter()
            .filter_map(|attempt| {
                let chunk = cids.iter().position(|cid| *cid == attempt.cid)?;
                Some((attempt.id.0, attempt.source.0, chunk))
            })
            .collect();
        (starts, plan.wake_at)
    }

    /// Starts every chunk whose retry time has come, two requests at a time, all to the origin.
    fn poll_plain(
        &mut self,
        plain: &mut Plain,
        has: u64,
        requests: &[Request],
    ) -> (Vec<(u64, usize, usize)>, Option<Millis>) {
        let now = self.now;
        let mut starts = Vec::new();
        let mut running = requests.len();
        let mut wake: Option<Millis> = None;
        for chunk in 0..self.chunks {
            let busy = has & (1 << chunk) != 0 || requests.iter().any(|request| request.chunk == chunk);
            let Some(&ready_at) = plain.ready_at.get(chunk) else { break };
            if busy {
                continue;
            }
            if ready_at > now {
                wake = Some(wake.map_or(ready_at, |wake| wake.min(ready_at)));
            } else if running < 2 {
                plain.next_id += 1;
                starts.push((plain.next_id, 0, chunk));
                running += 1;
            }
        }
        (starts, wake)
    }

    /// A request reaches its source, which decides now how it will answer.
    fn send(&mut self, student: &Student, id: u64, source: usize, chunk: usize) -> Request {
        let (now, size) = (self.now, self.region.chunk_size);
        let (answer, end, first_byte) = if source == self.peer_source() {
            let held =
                self.classes.get(student.class).and_then(Option::as_ref).and_then(|class| class.holders.get(chunk));
            let latency = self.region.peer_latency;
            match held.is_some_and(|&holders| holders > 0) {
                true => {
                    (Answer::Bytes { lie: false }, latency + transfer_ms(size, self.region.peer_upload, 1), latency)
                }
                false => (Answer::Absent, latency, latency),
            }
        } else {
            let Some(server) = self.servers.get_mut(source) else {
                return Request { id, source, chunk, first_byte: now, end: now, answer: Answer::Down };
            };
            let decided = server.receive(chunk, size, now);
            if source == 0 && decided.0 != Answer::Down {
                let second = (now / 1000) as usize;
                if let Some(count) = self.figures.origin_offered.get_mut(second) {
                    *count += 1;
                }
                if let (Answer::Bytes { .. }, Some(count)) = (decided.0, self.figures.origin_accepted.get_mut(second)) {
                    *count += 1;
                }
            }
            decided
        };
        self.push(now + end.max(1), Event::Answer(student.index, id));
        Request { id, source, chunk, first_byte: now + first_byte, end: now + end.max(1), answer }
    }

    /// An answer reaches the student, who checks the bytes against the chunk's CID before keeping them.
    fn answer(&mut self, index: usize, id: u64) {
        let now = self.now;
        let Some(mut student) = self.students.get_mut(index).and_then(Option::take) else { return };
        let Some(position) = student.requests.iter().position(|request| request.id == id) else {
            self.students[index] = Some(student);
            return; // cancelled meanwhile
        };
        let request = student.requests.swap_remove(position);
        self.release(&request);
        let outcome = match request.answer {
            Answer::Bytes { lie } => self.receive(&mut student, &request, lie),
            Answer::Refused { retry_after_ms } => Outcome::Status { code: 503, retry_after_ms },
            Answer::Absent => Outcome::Status { code: 404, retry_after_ms: None },
            Answer::Down => Outcome::NetworkError,
        };
        let verified = matches!(outcome, Outcome::Verified { .. });
        match &mut student.client {
            Client::Scheduler(scheduler) => scheduler.finish(crate::fetch::AttemptId(id), outcome, now),
            Client::Plain(plain) if !verified => {
                let failures = plain.failures.get_mut(request.chunk).map(|failures| {
                    *failures = failures.saturating_add(1);
                    *failures
                });
                let delay = match self.policy {
                    Policy::Naive => 1_000,
                    _ => full_jitter(500, 30_000, failures.unwrap_or(1), self.random.next_f64()),
                };
                if let Some(ready_at) = plain.ready_at.get_mut(request.chunk) {
                    *ready_at = now + delay;
                }
            }
            Client::Plain(_) => {}
        }
        let (complete, arrived) = (student.has.count_ones() as usize >= self.chunks, student.arrived);
        self.students[index] = Some(student);
        if complete {
            if let Some(time) = self.figures.finished.get_mut(index) {
                *time = Some(now.saturating_sub(arrived));
            }
            self.leave(index);
        } else {
            self.schedule_poll(index, now);
        }
    }

    /// Checks delivered bytes against their CID; keeps them (and tells the classmates) if they match.
    fn receive(&mut self, student: &mut Student, request: &Request, lie: bool) -> Outcome {
        let size = self.region.chunk_size;
        let mut sent = payload(student.class, request.chunk);
        if lie {
            sent.push(0xff);
        }
        let Some(class) = self.classes.get_mut(student.class).and_then(Option::as_mut) else {
            return Outcome::NetworkError;
        };
        let matches = class.cids.get(request.chunk).is_some_and(|cid| cid.matches(&sent));
        if !matches {
            self.figures.bytes_refused += size;
            return Outcome::Corrupt;
        }
        self.figures.corrupt_accepted += u64::from(lie);
        let bit = 1u64 << request.chunk;
        if student.has & bit != 0 {
            self.figures.bytes_duplicate += size;
            return Outcome::Verified { bytes: size };
        }
        student.has |= bit;
        if student.reachable {
            if let Some(holders) = class.holders.get_mut(request.chunk) {
                *holders += 1;
            }
        }
        let peer = self.servers.len();
        match request.source {
            0 => self.figures.bytes_origin += size,
            source if source == peer => self.figures.bytes_peers += size,
            _ => self.figures.bytes_mirrors += size,
        }
        Outcome::Verified { bytes: size }
    }

    /// The student leaves (done, or giving up): their requests are abandoned, their scheduler dropped.
    /// What they kept is counted on their side, apart from what the sources counted.
    fn leave(&mut self, index: usize) {
        let Some(student) = self.students.get_mut(index).and_then(Option::take) else { return };
        for request in &student.requests {
            self.release(request);
        }
        self.figures.bytes_kept += u64::from(student.has.count_ones()) * self.region.chunk_size;
        self.present = self.present.saturating_sub(1);
    }

    /// A server stops sending an answer.
    fn release(&mut self, request: &Request) {
        if let (Answer::Bytes { .. }, Some(server)) = (request.answer, self.servers.get_mut(request.source)) {
            server.release();
        }
    }
}
