//! `cartable sim`: runs the core's region simulation under each client policy on the same arrivals (one
//! thread per policy), shows a progress bar on standard error, prints the figures, and writes them as CSV
//! and SVG plots. The simulation is the core's; this file reads options, runs the threads, measures wall
//! time and memory, and writes files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use cartable_core::region::{self, BaselineMirrors, Figures, Overload, Policy, Region, MINUTE};

/// Options of `cartable sim`.
#[derive(clap::Args)]
pub struct SimArgs {
    /// Students in the region.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=2_000_000))]
    pub students: u64,
    /// Seed of the simulation's random numbers: the same seed prints the same figures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Runs of each policy, with seeds --seed, --seed + 1...: the table shows the mean and the spread.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10))]
    pub seeds: u64,
    /// The origin's capacity as a share of the morning's peak demand (chunk requests per second in the
    /// busiest minute), from 0.001 to 1.
    #[arg(long, default_value_t = 0.1)]
    pub origin_share: f64,
    /// The origin's capacity in requests per second, instead of --origin-share.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub origin_rps: Option<u32>,
    /// Mirrors (the first of two or more lies about one chunk in four).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=16))]
    pub mirrors: u64,
    /// Each mirror's capacity as a share of the morning's peak demand, from 0.001 to 10 (a CDN sized for
    /// the region).
    #[arg(long, default_value_t = 0.5)]
    pub mirror_share: f64,
    /// Each mirror's capacity in requests per second, instead of --mirror-share.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub mirror_rps: Option<u32>,
    /// Leave the origin up all morning (by default it is down from 08:10 to 08:20).
    #[arg(long)]
    pub no_outage: bool,
    /// The `Retry-After` the origin and mirrors send with a 503, in seconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub retry_after: u64,
    /// The origin is a waiting room: a refusal's `Retry-After` names the next free second of its queue.
    #[arg(long)]
    pub waiting_room: bool,
    /// What the origin does beyond its rate: refuse (503 at once, with `Retry-After`) or timeout (no
    /// answer: each client waits until it gives up).
    #[arg(long, default_value = "refuse")]
    pub overload: String,
    /// Share of the chunk answers the origin and mirrors accept, from 0 to 1, that stop halfway and stay
    /// silent (drawn per answer from the seed): clients must give up on them.
    #[arg(long, default_value_t = 0.01)]
    pub stalls: f64,
    /// What the naive and backoff clients know of the mirrors: none (the origin only), trusting (the
    /// origin and the mirrors in turn, bytes trusted) or checking (the same, each chunk checked).
    #[arg(long, default_value = "none")]
    pub baseline_mirrors: String,
    /// Share of students, from 0 to 1, whom no classmate can reach.
    #[arg(long, default_value_t = 0.2)]
    pub unreachable: f64,
    /// Share of pairs of classmates, from 0 to 1, who cannot link directly (their NATs), drawn per pair
    /// from the seed; through --turn-kbps they link all the same.
    #[arg(long, default_value_t = 0.1)]
    pub pair_failure: f64,
    /// Share of students, from 0 to 1, who saved an earlier version of the course: with no server giving
    /// today's manifest, they open their copy and take the manifest from a classmate (0: first visits).
    #[arg(long, default_value_t = 0.0)]
    pub returning: f64,
    /// Students per class (each class has a course of its own).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub class_size: u64,
    /// Chunks in each course.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub chunks: u64,
    /// Size of a chunk, in KiB.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=16384))]
    pub chunk_kib: u64,
    /// Size of the signed manifest each page asks for first, in KiB.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub manifest_kib: u64,
    /// Chunks of the first lesson, read as the page opens (0 for none).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=64))]
    pub reading_chunks: u64,
    /// Upload of one student's browser towards classmates, in kB/s, shared by the transfers it is sending.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub peer_upload_kbps: u64,
    /// The school's TURN relay, in kB/s for each class: students out of reach of classmates, and pairs
    /// that cannot link directly, link through it (none by default).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub turn_kbps: Option<u64>,
    /// Milliseconds from a page having the manifest until its links to classmates are open.
    #[arg(long, default_value_t = 1_500, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub peer_connect_ms: u64,
    /// Minutes a student without the whole coursework waits before giving up.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub patience_min: u64,
    /// Minutes, on average, a served student keeps the page open for classmates.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub stay_min: u64,
    /// Policies to run, among naive, backoff and cartable (all three by default).
    #[arg(long, value_delimiter = ',', default_values_t = ["naive".to_owned(), "backoff".to_owned(), "cartable".to_owned()])]
    pub policies: Vec<String>,
    /// Folder to write `sim-summary.csv`, `sim-origin.csv`, `sim-served.svg` and `sim-origin.svg` to
    /// (created if missing).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// Runs the policies and reports them.
pub fn run(args: &SimArgs) -> anyhow::Result<()> {
    let policies = chosen(&args.policies)?;
    let region = region(args)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    eprintln!(
        "{} students in {} classes, origin {} req/s{}, {} mirror(s) of {} req/s; seed {}",
        region.students,
        region.students.div_ceil(region.class_size),
        region.origin.rps,
        if region.origin.down.is_some() { " (down 08:10 to 08:20)" } else { "" },
        region.mirrors.len(),
        region.mirrors.first().map_or(0, |mirror| mirror.rps),
        args.seed
    );
    let started = crate::clock::Stopwatch::start();
    let seeds: Vec<u64> = (0..args.seeds).map(|n| args.seed.wrapping_add(n)).collect();
    let runs: Vec<(Policy, u64)> =
        policies.iter().flat_map(|&policy| seeds.iter().map(move |&seed| (policy, seed))).collect();
    let clocks: Vec<AtomicU64> = runs.iter().map(|_| AtomicU64::new(0)).collect();
    let all = std::thread::scope(|scope| {
        let threads: Vec<_> = runs
            .iter()
            .zip(&clocks)
            .map(|(&(policy, seed), clock)| {
                let region = &region;
                scope.spawn(move || region::run(region, policy, seed, &mut |time| clock.store(time, Ordering::Relaxed)))
            })
            .collect();
        while threads.iter().any(|thread| !thread.is_finished()) {
            show_progress(&policies, &runs, &clocks, region.horizon(), started.elapsed().as_secs_f64());
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        threads.into_iter().map(|thread| thread.join()).collect::<Result<Vec<_>, _>>()
    })
    .map_err(|_| anyhow::anyhow!("the simulation stopped on an internal error"))?;
    let all: Vec<Run> = runs.iter().zip(all).map(|(&(_, seed), figures)| Run { seed, figures }).collect();
    eprintln!("\r{:<100}", "");
    let subtitle = parameters(&region, args);
    println!("{subtitle}");
    println!("{}", table(&region, &policies, &all));
    if let Some(floor) = manifest_floor(&region, &all) {
        println!("{floor}");
    }
    println!(
        "simulated in {:.1} s on {} thread(s); peak memory {}",
        started.elapsed().as_secs_f64(),
        runs.len(),
        peak_memory().unwrap_or_else(|| "unknown".to_owned())
    );
    let first: Vec<&Figures> = all.iter().filter(|run| run.seed == args.seed).map(|run| &run.figures).collect();
    let labels: Vec<String> = first.iter().map(|figures| label(&region, figures.policy)).collect();
    write(&args.out.join("sim-summary.csv"), &summary_csv(&region, args, &all))?;
    write(&args.out.join("sim-origin.csv"), &origin_csv(&region, &first))?;
    write(&args.out.join("sim-served.svg"), &served_svg(&first, &labels, &subtitle))?;
    write(&args.out.join("sim-origin.svg"), &origin_svg(&region, &first, &labels, &subtitle))?;
    println!("wrote sim-summary.csv, sim-origin.csv, sim-served.svg and sim-origin.svg to {}", args.out.display());
    Ok(())
}

fn region(args: &SimArgs) -> anyhow::Result<Region> {
    if !(0.001..=1.0).contains(&args.origin_share) {
        anyhow::bail!(
            "--origin-share must be between 0.001 and 1 (a share of the peak demand), not {}",
            args.origin_share
        );
    }
    if !(0.001..=10.0).contains(&args.mirror_share) {
        anyhow::bail!(
            "--mirror-share must be between 0.001 and 10 (a share of the peak demand), not {}",
            args.mirror_share
        );
    }
    if !(0.0..=1.0).contains(&args.unreachable) {
        anyhow::bail!("--unreachable must be between 0 and 1 (a share of the students), not {}", args.unreachable);
    }
    if !(0.0..=1.0).contains(&args.returning) {
        anyhow::bail!("--returning must be between 0 and 1 (a share of the students), not {}", args.returning);
    }
    if !(0.0..=1.0).contains(&args.pair_failure) {
        anyhow::bail!("--pair-failure must be between 0 and 1 (a share of the pairs), not {}", args.pair_failure);
    }
    if !(0.0..=1.0).contains(&args.stalls) {
        anyhow::bail!("--stalls must be between 0 and 1 (a share of the answers), not {}", args.stalls);
    }
    let overload = match args.overload.as_str() {
        "refuse" => Overload::Refuse,
        "timeout" => Overload::Timeout,
        other => anyhow::bail!("unknown --overload {other:?}: use refuse or timeout"),
    };
    let baseline_mirrors = match args.baseline_mirrors.as_str() {
        "none" => BaselineMirrors::None,
        "trusting" => BaselineMirrors::Trusting,
        "checking" => BaselineMirrors::Checking,
        other => anyhow::bail!("unknown --baseline-mirrors {other:?}: use none, trusting or checking"),
    };
    let mut region = Region::morning(usize::try_from(args.students)?, usize::try_from(args.mirrors)?);
    region.class_size = usize::try_from(args.class_size)?;
    region.chunks = usize::try_from(args.chunks)?;
    region.chunk_size = args.chunk_kib * 1024;
    region.manifest_bytes = args.manifest_kib * 1024;
    region.reading_chunks = usize::try_from(args.reading_chunks)?;
    region.unreachable = args.unreachable;
    region.pair_failure = args.pair_failure;
    region.returning = args.returning;
    region.peer_upload = args.peer_upload_kbps * 1000;
    region.peer_connect = args.peer_connect_ms;
    region.turn = args.turn_kbps.map(|kbps| kbps * 1000);
    region.patience = args.patience_min * MINUTE;
    region.stay = args.stay_min * MINUTE;
    region.baseline_mirrors = baseline_mirrors;
    region.origin.waiting_room = args.waiting_room;
    region.origin.overload = overload;
    for server in std::iter::once(&mut region.origin).chain(&mut region.mirrors) {
        server.retry_after_s = Some(args.retry_after);
        server.stalls = args.stalls;
    }
    let mut region = region.with_shares(args.origin_share, args.mirror_share, args.seed);
    if args.no_outage {
        region.origin.down = None;
    }
    let chunk_size = region.chunk_size;
    if let Some(rps) = args.origin_rps {
        region.origin.set_rate(rps, chunk_size);
    }
    if let Some(rps) = args.mirror_rps {
        for mirror in &mut region.mirrors {
            mirror.set_rate(rps, chunk_size);
        }
    }
    Ok(region)
}

/// The policies named, in the order of [`Policy::ALL`].
fn chosen(names: &[String]) -> anyhow::Result<Vec<Policy>> {
    if let Some(unknown) = names.iter().find(|name| !Policy::ALL.iter().any(|policy| policy.name() == name.as_str())) {
        anyhow::bail!("unknown policy {unknown:?} in --policies: use naive, backoff or cartable");
    }
    Ok(Policy::ALL.into_iter().filter(|policy| names.iter().any(|name| name == policy.name())).collect())
}

/// One policy's run with one seed.
struct Run {
    seed: u64,
    figures: Figures,
}

/// `naive [#######-------] 08:12  backoff [###-----] 07:40 …  12 s`: per policy, its slowest seed.
fn show_progress(policies: &[Policy], runs: &[(Policy, u64)], clocks: &[AtomicU64], horizon: u64, elapsed: f64) {
    let mut line = String::from("\r");
    for &policy in policies {
        let slowest = runs.iter().zip(clocks).filter(|((of, _), _)| *of == policy);
        let time = slowest.map(|(_, clock)| clock.load(Ordering::Relaxed)).min().unwrap_or(0);
        let done = (20 * time / horizon.max(1)).min(20) as usize;
        let _ =
            write!(line, "{} [{}{}] {}  ", policy.name(), "#".repeat(done), "-".repeat(20 - done), clock_time(time));
    }
    let _ = write!(line, "{elapsed:.0} s");
    eprint!("{line}");
    let _ = std::io::stderr().flush();
}

/// What a policy may fetch from, for tables and charts.
fn label(region: &Region, policy: Option<Policy>) -> String {
    let Some(policy) = policy else { return "?".to_owned() };
    let sources = match (policy, region.baseline_mirrors, region.mirrors.is_empty()) {
        (Policy::Cartable, _, true) => "origin, classmates",
        (Policy::Cartable, _, false) => "origin, mirrors, classmates",
        (_, BaselineMirrors::None, _) | (_, _, true) => "origin",
        (_, BaselineMirrors::Trusting, false) => "origin, mirrors, unchecked",
        (_, BaselineMirrors::Checking, false) => "origin, mirrors, checked",
    };
    format!("{} ({sources})", policy.name())
}

/// The parameters of the run, on one line.
fn parameters(region: &Region, args: &SimArgs) -> String {
    let mirrors = match region.mirrors.first() {
        Some(mirror) => format!("{} mirror(s) of {} req/s", region.mirrors.len(), mirror.rps),
        None => "no mirror".to_owned(),
    };
    format!(
        "{} students in classes of {}, {} chunks of {} KiB; origin {} req/s{}{}{}, Retry-After {} s; {mirrors}; {:.1} % of answers stall; {:.0} % unreachable, {:.0} % of pairs unlinked{}, {:.0} % returning, {} kB/s up, links in {:.1} s; patience {} min, stay {} min; seeds {}..{}",
        region.students,
        region.class_size,
        region.chunks,
        region.chunk_size / 1024,
        region.origin.rps,
        if region.origin.down.is_some() { " (down 08:10-08:20)" } else { "" },
        if region.origin.waiting_room { " waiting room" } else { "" },
        if region.origin.overload == Overload::Timeout { " timing out beyond it" } else { "" },
        args.retry_after,
        100.0 * args.stalls,
        100.0 * region.unreachable,
        100.0 * region.pair_failure,
        region.turn.map_or(String::new(), |turn| format!(" (through a {} kB/s TURN relay)", turn / 1000)),
        100.0 * region.returning,
        region.peer_upload / 1000,
        region.peer_connect as f64 / 1000.0,
        region.patience / MINUTE,
        region.stay / MINUTE,
        args.seed,
        args.seed.wrapping_add(args.seeds - 1),
    )
}

/// For cartable: how many pages took today's manifest from a classmate, and how many the origin refused
/// came back to it for the manifest (the mean over seeds). When only the origin holds the manifest, each
/// of those is a request from a refused client that no policy avoids: spread over the whole run, a floor
/// under the refused clients' load.
fn manifest_floor(region: &Region, all: &[Run]) -> Option<String> {
    let runs: Vec<&Figures> =
        all.iter().map(|run| &run.figures).filter(|figures| figures.policy == Some(Policy::Cartable)).collect();
    let mean =
        |count: fn(&Figures) -> u64| runs.iter().map(|figures| count(figures)).sum::<u64>() as f64 / runs.len() as f64;
    if runs.is_empty() {
        return None;
    }
    let came_back = mean(|figures| figures.manifest_origin_after_refusal);
    let floor = came_back / (region.horizon() as f64 / 1000.0);
    Some(format!(
        "cartable: {:.0} pages took the manifest from a classmate; {came_back:.0} pages the origin refused came back to it \
         for the manifest: at least {floor:.2} req/s over the whole run, {:.1} % of its capacity",
        mean(|figures| figures.manifest_from_classmates),
        100.0 * floor / f64::from(region.origin.rps.max(1)),
    ))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `08:12`: virtual milliseconds since 07:00 as a time of day.
fn clock_time(time: u64) -> String {
    let minutes = time / MINUTE;
    format!("{:02}:{:02}", 7 + minutes / 60, minutes % 60)
}

fn seconds(time: Option<u64>) -> String {
    time.map_or("gave up".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0))
}

/// Percentages of the bytes delivered: origin, mirrors, classmates.
fn shares(figures: &Figures) -> [f64; 3] {
    let total = figures.bytes_delivered().max(1) as f64;
    [figures.bytes_origin, figures.bytes_mirrors, figures.bytes_peers].map(|bytes| 100.0 * bytes as f64 / total)
}

/// The mean of `values` with `decimals` decimals, and `±` half their range when there are several.
fn spread_with(values: &[f64], decimals: usize) -> String {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    let (low, high) = values.iter().fold((f64::MAX, f64::MIN), |(low, high), &v| (low.min(v), high.max(v)));
    match values.len() {
        0 | 1 => format!("{mean:.decimals$}"),
        _ => format!("{mean:.decimals$}±{:.decimals$}", (high - low) / 2.0),
    }
}

fn spread(values: &[f64]) -> String {
    spread_with(values, 1)
}

fn table(region: &Region, policies: &[Policy], all: &[Run]) -> String {
    let mut text = format!(
        "{:<38} {:>28} {:>20} {:>22} {:>24} {:>8} {:>8}\n",
        "policy (may use)",
        "served % 5/15/60",
        "to coursework s",
        "origin req/s all/retry",
        "bytes % origin/mirr/peer",
        "gave up",
        "corrupt",
    );
    let _ = writeln!(
        text,
        "{:<38} {:>28} {:>20} {:>22}",
        "",
        "min after arrival",
        "p50 / p95 / p99",
        format!("peak 10 s, cap {}", region.origin.rps)
    );
    let several = all.len() > policies.len();
    for &policy in policies {
        let runs: Vec<&Figures> = all.iter().map(|run| &run.figures).filter(|f| f.policy == Some(policy)).collect();
        let each = |value: &dyn Fn(&Figures) -> f64| runs.iter().map(|figures| value(figures)).collect::<Vec<f64>>();
        let served = [5, 15, 60].map(|minutes| spread(&each(&|f| 100.0 * f.share_within(minutes * MINUTE))));
        let Some(&first) = runs.first() else { continue };
        let times = [0.5, 0.95, 0.99].map(|q| seconds(first.quantile(q)));
        let bytes = shares(first).map(|share| format!("{share:.0}"));
        let peaks =
            (spread(&each(&|f| f.origin_peak_rate(0, 10))), spread(&each(&|f| f.origin_peak_retry_rate(0, 10))));
        let _ = writeln!(
            text,
            "{:<38} {:>28} {:>20} {:>22} {:>24} {:>8} {:>8}",
            label(region, Some(policy)),
            served.join(" / "),
            times.join(" / "),
            format!("{} / {}", peaks.0, peaks.1),
            bytes.join(" / "),
            spread_with(&each(&|f| f.gave_up() as f64), 0),
            spread_with(&each(&|f| f.corrupt_accepted as f64), 0),
        );
    }
    if several {
        text.push_str("(several seeds: mean ± half the range; times and bytes from the first seed)\n");
    }
    text
}

fn summary_csv(region: &Region, args: &SimArgs, all: &[Run]) -> String {
    let mut text = "policy,seed,students,class_size,chunks,chunk_bytes,manifest_bytes,reading_chunks,origin_rps,origin_down,retry_after_s,waiting_room,overload,stalls,mirrors,mirror_rps,baseline_mirrors,unreachable,pair_failure,returning,turn_bytes_s,peer_upload_bytes_s,peer_connect_ms,patience_min,stay_min,served_5min,served_15min,served_60min,p50_s,p95_s,p99_s,gave_up,bytes_origin,bytes_mirrors,bytes_peers,bytes_refused,corrupt_accepted,origin_peak_rps_10s,origin_peak_retry_rps_10s,peak_present,restarts,peer_cut,stalls_caught,manifest_from_classmates,manifest_origin_after_refusal,events\n".to_owned();
    for Run { seed, figures } in all {
        let quantile = |q| figures.quantile(q).map_or(String::new(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        let _ = writeln!(
            text,
            "{},{seed},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4},{:.4},{:.4},{},{},{},{},{},{},{},{},{},{:.1},{:.1},{},{},{},{},{},{},{}",
            figures.policy.map_or("?", Policy::name),
            region.students,
            region.class_size,
            region.chunks,
            region.chunk_size,
            region.manifest_bytes,
            region.reading_chunks,
            region.origin.rps,
            region.origin.down.is_some(),
            args.retry_after,
            region.origin.waiting_room,
            args.overload,
            args.stalls,
            region.mirrors.len(),
            region.mirrors.first().map_or(0, |mirror| mirror.rps),
            args.baseline_mirrors,
            region.unreachable,
            region.pair_failure,
            region.returning,
            region.turn.unwrap_or(0),
            region.peer_upload,
            region.peer_connect,
            region.patience / MINUTE,
            region.stay / MINUTE,
            figures.share_within(5 * MINUTE),
            figures.share_within(15 * MINUTE),
            figures.share_within(60 * MINUTE),
            quantile(0.5),
            quantile(0.95),
            quantile(0.99),
            figures.gave_up(),
            figures.bytes_origin,
            figures.bytes_mirrors,
            figures.bytes_peers,
            figures.bytes_refused,
            figures.corrupt_accepted,
            figures.origin_peak_rate(0, 10),
            figures.origin_peak_retry_rate(0, 10),
            figures.peak_present,
            figures.restarts,
            figures.peer_cut,
            figures.stalls_caught,
            figures.manifest_from_classmates,
            figures.manifest_origin_after_refusal,
            figures.events,
        );
    }
    text
}

fn origin_csv(region: &Region, all: &[&Figures]) -> String {
    let mut text = "policy,minute,time,offered_mean_rps,offered_peak_rps,accepted_mean_rps,capacity_rps\n".to_owned();
    for figures in all {
        for minute in figures.minutes() {
            let _ = writeln!(
                text,
                "{},{},{},{:.2},{},{:.2},{}",
                figures.policy.map_or("?", Policy::name),
                minute.minute,
                clock_time(minute.minute as u64 * MINUTE),
                minute.offered_mean,
                minute.offered_peak,
                minute.accepted_mean,
                region.origin.rps
            );
        }
    }
    text
}

const COLOURS: [&str; 4] = ["#c0392b", "#d68910", "#1e8449", "#1f4e9c"];
/// Each series is drawn narrower and dashed differently from the one before, so that none hides another.
const STROKES: [(f64, &str); 4] = [(6.0, ""), (4.0, "10 4"), (2.5, "4 3"), (1.5, "")];

/// A chart's frame: its title, the parameters under it, the axes' names and ticks.
struct Frame<'a> {
    title: &'a str,
    subtitle: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    x_ticks: Vec<(f64, String)>,
    x_max: f64,
    y_max: f64,
    /// `y` on a logarithmic scale from 1 (values below 1 sit on the axis), ticked at powers of ten.
    log: bool,
}

/// A line chart of `series` of (label, points), with `reference` drawn as a dashed horizontal line.
fn chart(frame: &Frame, series: &[(String, Vec<(f64, f64)>)], reference: Option<(&str, f64)>) -> String {
    let (width, height, left, bottom, top, right) = (960.0, 460.0, 70.0, 50.0, 70.0, 300.0);
    let (x_max, y_max, log) = (frame.x_max, frame.y_max, frame.log);
    let scale = |y: f64| if log { y.max(1.0).log10() } else { y };
    let position = |x: f64, y: f64| {
        let px = left + (x / x_max.max(f64::MIN_POSITIVE)) * (width - left - right);
        let py =
            height - bottom - (scale(y.min(y_max)) / scale(y_max).max(f64::MIN_POSITIVE)) * (height - bottom - top);
        (px, py)
    };
    let plot = |x: f64, y: f64| {
        let (px, py) = position(x, y);
        format!("{px:.1},{py:.1}")
    };
    let title = escape(frame.title);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<title>{title}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"22\" font-size=\"15\">{title}</text>\n"
    );
    // The parameters, on two lines split at the `;` nearest the middle.
    let middle = frame.subtitle.len() / 2;
    let split = frame.subtitle.match_indices("; ").map(|(at, _)| at).min_by_key(|at| at.abs_diff(middle));
    let (first, second) = split.map_or((frame.subtitle, ""), |at| (&frame.subtitle[..at], &frame.subtitle[at + 2..]));
    for (line, y) in [(first, 38), (second, 52)] {
        let _ = writeln!(svg, "<text x=\"{left}\" y=\"{y}\" font-size=\"11\" fill=\"#444\">{}</text>", escape(line));
    }
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"#333\" points=\"{} {} {}\"/>",
        plot(0.0, y_max),
        plot(0.0, 0.0),
        plot(x_max, 0.0)
    );
    for (x, text) in &frame.x_ticks {
        let (xx, xy) = position(*x, 0.0);
        let _ = writeln!(svg, "<text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{text}</text>", xy + 18.0);
    }
    let y_ticks: Vec<f64> = match log {
        // 1, 2, 5, 10, 20, 50... over a few decades; powers of ten over more.
        true if y_max < 1_000.0 => (0..)
            .flat_map(|power| [1.0, 2.0, 5.0].map(|step| step * 10f64.powi(power)))
            .take_while(|&y| y <= y_max)
            .collect(),
        true => (0..).map(|power| 10f64.powi(power)).take_while(|&y| y <= y_max).collect(),
        false => (0..=4).map(|step| y_max * f64::from(step) / 4.0).collect(),
    };
    for y in y_ticks {
        let (yx, yy) = position(0.0, y);
        let _ = writeln!(svg, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{y:.0}</text>", yx - 6.0, yy + 4.0);
        let _ =
            writeln!(svg, "<polyline fill=\"none\" stroke=\"#ddd\" points=\"{} {}\"/>", plot(0.0, y), plot(x_max, y));
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        (width - right + left) / 2.0,
        height - 12.0,
        frame.x_label
    );
    let _ = writeln!(
        svg,
        "<text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">{}</text>",
        height / 2.0,
        height / 2.0,
        frame.y_label
    );
    for (index, (label, points)) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let (stroke, dashes) = STROKES[index % STROKES.len()];
        let line: Vec<String> = points.iter().map(|&(x, y)| plot(x, y)).collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"{stroke}\" stroke-dasharray=\"{dashes}\" stroke-opacity=\"0.85\" points=\"{}\"/>",
            line.join(" ")
        );
        let y = top + 20.0 * index as f64 + 10.0;
        let _ = writeln!(
            svg,
            "<polyline stroke=\"{colour}\" stroke-width=\"{stroke}\" stroke-dasharray=\"{dashes}\" points=\"{},{y} {},{y}\"/>",
            width - right + 10.0,
            width - right + 34.0
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" fill=\"{colour}\">{}</text>",
            width - right + 40.0,
            y + 4.0,
            escape(label)
        );
    }
    if let Some((label, y)) = reference {
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"#555\" stroke-dasharray=\"6 4\" points=\"{} {}\"/>",
            plot(0.0, y),
            plot(x_max, y)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" fill=\"#555\">{label}</text>",
            width - right + 40.0,
            top + 20.0 * series.len() as f64 + 14.0
        );
    }
    svg + "</svg>\n"
}

/// `text` safe inside SVG text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Share of students with the whole coursework against minutes after their arrival, per policy.
fn served_svg(all: &[&Figures], labels: &[String], subtitle: &str) -> String {
    let series: Vec<(String, Vec<(f64, f64)>)> = all
        .iter()
        .zip(labels)
        .map(|(figures, label)| {
            let points = (0..=120)
                .map(|half| f64::from(half) / 2.0)
                .map(|minutes| (minutes, 100.0 * figures.share_within((minutes * MINUTE as f64) as u64)));
            (label.clone(), points.collect())
        })
        .collect();
    let frame = Frame {
        title: "Students with their whole coursework",
        subtitle,
        x_label: "minutes after arriving",
        y_label: "% of students",
        x_ticks: (0..=6).map(|step| (f64::from(step) * 10.0, format!("{}", step * 10))).collect(),
        x_max: 60.0,
        y_max: 100.0,
        log: false,
    };
    chart(&frame, &series, None)
}

/// Requests reaching the origin each minute (mean per second) against its capacity, per policy, by time
/// of day.
fn origin_svg(region: &Region, all: &[&Figures], labels: &[String], subtitle: &str) -> String {
    let series: Vec<(String, Vec<(f64, f64)>)> = all
        .iter()
        .zip(labels)
        .map(|(figures, label)| {
            let points = figures.minutes().iter().map(|minute| (minute.minute as f64, minute.offered_mean)).collect();
            (label.clone(), points)
        })
        .collect();
    let top = series
        .iter()
        .flat_map(|(_, points)| points.iter().map(|&(_, y)| y))
        .fold(f64::from(region.origin.rps) * 1.5, f64::max);
    let minutes = (region.horizon() / MINUTE) as f64;
    let capacity = format!("capacity {} req/s", region.origin.rps);
    let x_ticks =
        (0..=(minutes as u64 / 30)).map(|half| ((half * 30) as f64, clock_time(half * 30 * MINUTE))).collect();
    let frame = Frame {
        title: "Requests reaching the origin (mean per second, by minute)",
        subtitle,
        x_label: "time of day",
        y_label: "requests / s (log)",
        x_ticks,
        x_max: minutes,
        y_max: top,
        log: true,
    };
    chart(&frame, &series, Some((&capacity, f64::from(region.origin.rps))))
}

/// The process's peak resident memory, from `/proc/self/status` (Linux only).
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}
