//! `cartable sim`: runs the core's region simulation under each client policy on the same arrivals,
//! prints the figures, writes them as CSV, and shows a progress line on standard error. The simulation
//! is the core's; this file only reads options, measures wall time and memory, and writes files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use cartable_core::region::{self, Figures, Policy, Region, MINUTE};

/// Options of `cartable sim`.
#[derive(clap::Args)]
pub struct SimArgs {
    /// Students in the region.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=2_000_000))]
    pub students: u64,
    /// Seed of the simulation's random numbers: the same seed prints the same figures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The origin's capacity, in requests per second.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub origin_rps: u32,
    /// Mirrors (the first of two or more lies about one chunk in four).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=16))]
    pub mirrors: u64,
    /// Policies to run, among naive, backoff and cartable (all three by default). The naive policy costs
    /// the most to simulate: its students keep asking once a second until served.
    #[arg(long, value_delimiter = ',', default_values_t = ["naive".to_owned(), "backoff".to_owned(), "cartable".to_owned()])]
    pub policies: Vec<String>,
    /// Folder to write `sim-summary.csv` and `sim-origin.csv` to (created if missing).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// Runs the three policies and reports them.
pub fn run(args: &SimArgs) -> anyhow::Result<()> {
    let mut region = Region::morning(usize::try_from(args.students)?, usize::try_from(args.mirrors)?);
    region.origin.rps = args.origin_rps;
    let mut all = Vec::new();
    let started = crate::clock::Stopwatch::start();
    let policies = chosen(&args.policies)?;
    for policy in policies {
        let mut show = |time: u64| {
            if time % (10 * MINUTE) == 0 || time / MINUTE % 10 == 0 {
                eprint!("\r{:<8} {}  {:.0} s", policy.name(), clock(time), started.elapsed().as_secs_f64());
                let _ = std::io::stderr().flush();
            }
        };
        all.push(region::run(&region, policy, args.seed, &mut show));
    }
    eprintln!("\r{:<40}", "");
    println!("{}", table(&region, &all));
    println!(
        "{} students, {} classes; simulated in {:.1} s; peak memory {}",
        region.students,
        region.students.div_ceil(region.class_size),
        started.elapsed().as_secs_f64(),
        peak_memory().unwrap_or_else(|| "unknown".to_owned())
    );
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    write(&args.out.join("sim-summary.csv"), &summary_csv(&all))?;
    write(&args.out.join("sim-origin.csv"), &origin_csv(&region, &all))?;
    Ok(())
}

/// The policies named, in the order of [`Policy::ALL`].
fn chosen(names: &[String]) -> anyhow::Result<Vec<Policy>> {
    if let Some(unknown) = names.iter().find(|name| !Policy::ALL.iter().any(|policy| policy.name() == name.as_str())) {
        anyhow::bail!("unknown policy {unknown:?} in --policies: use naive, backoff or cartable");
    }
    Ok(Policy::ALL.into_iter().filter(|policy| names.iter().any(|name| name == policy.name())).collect())
}

fn write(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `08:12`: virtual milliseconds since 07:00 as a time of day.
fn clock(time: u64) -> String {
    let minutes = time / MINUTE;
    format!("{:02}:{:02}", 7 + minutes / 60, minutes % 60)
}

fn seconds(time: Option<u64>) -> String {
    time.map_or("gave up".to_owned(), |ms| format!("{:.0}", ms as f64 / 1000.0))
}

fn table(region: &Region, all: &[Figures]) -> String {
    let mut text = format!(
        "{:<9} {:>19} {:>22} {:>18} {:>26} {:>8} {:>8}\n",
        "policy",
        "complete % 5/15/60",
        "to coursework s",
        "origin peak req/s",
        "bytes % origin/mirr/peers",
        "gave up",
        "present"
    );
    let _ =
        writeln!(text, "{:<9} {:>19} {:>22} {:>18}", "", "min after arrival", "p50 / p95 / p99", "(10 s), capacity");
    for figures in all {
        let shares = [5, 15, 60].map(|minutes| format!("{:.1}", 100.0 * figures.share_within(minutes * MINUTE)));
        let times = [0.5, 0.95, 0.99].map(|q| seconds(figures.quantile(q)));
        let total = figures.bytes_delivered().max(1) as f64;
        let bytes = [figures.bytes_origin, figures.bytes_mirrors, figures.bytes_peers]
            .map(|bytes| format!("{:.0}", 100.0 * bytes as f64 / total));
        let _ = writeln!(
            text,
            "{:<9} {:>19} {:>22} {:>18} {:>26} {:>8} {:>8}",
            figures.policy.map_or("?", Policy::name),
            shares.join(" / "),
            times.join(" / "),
            format!("{:.0}, {}", figures.origin_peak_rate(0, 10), region.origin.rps),
            bytes.join(" / "),
            figures.gave_up(),
            figures.peak_present,
        );
    }
    text
}

fn summary_csv(all: &[Figures]) -> String {
    let mut text = "policy,complete_5min,complete_15min,complete_60min,p50_s,p95_s,p99_s,gave_up,bytes_origin,bytes_mirrors,bytes_peers,bytes_refused,origin_peak_rps_10s,peak_present,events\n".to_owned();
    for figures in all {
        let quantile = |q| figures.quantile(q).map_or(String::new(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        let _ = writeln!(
            text,
            "{},{:.4},{:.4},{:.4},{},{},{},{},{},{},{},{},{:.1},{},{}",
            figures.policy.map_or("?", Policy::name),
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
            figures.origin_peak_rate(0, 10),
            figures.peak_present,
            figures.events,
        );
    }
    text
}

fn origin_csv(region: &Region, all: &[Figures]) -> String {
    let mut text = "policy,minute,time,offered_mean_rps,offered_peak_rps,accepted_mean_rps,capacity_rps\n".to_owned();
    for figures in all {
        for minute in figures.minutes() {
            let _ = writeln!(
                text,
                "{},{},{},{:.2},{},{:.2},{}",
                figures.policy.map_or("?", Policy::name),
                minute.minute,
                clock(minute.minute as u64 * MINUTE),
                minute.offered_mean,
                minute.offered_peak,
                minute.accepted_mean,
                region.origin.rps
            );
        }
    }
    text
}

/// The process's peak resident memory, from `/proc/self/status` (Linux only).
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}
