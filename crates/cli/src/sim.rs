//! `cartable sim`: runs the core's region simulation under each client policy on the same arrivals (one
//! thread per policy), shows a progress bar on standard error, prints the figures, and writes them as CSV
//! and SVG plots. The simulation is the core's; this file reads options, runs the threads, measures wall
//! time and memory, and writes files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
    let clocks: Vec<AtomicU64> = policies.iter().map(|_| AtomicU64::new(0)).collect();
    let all = std::thread::scope(|scope| {
        let runs: Vec<_> = policies
            .iter()
            .zip(&clocks)
            .map(|(&policy, clock)| {
                let region = &region;
                scope.spawn(move || {
                    region::run(region, policy, args.seed, &mut |time| clock.store(time, Ordering::Relaxed))
                })
            })
            .collect();
        while runs.iter().any(|run| !run.is_finished()) {
            show_progress(&policies, &clocks, region.horizon(), started.elapsed().as_secs_f64());
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        runs.into_iter().map(|run| run.join()).collect::<Result<Vec<_>, _>>()
    })
    .map_err(|_| anyhow::anyhow!("the simulation stopped on an internal error"))?;
    eprintln!("\r{:<100}", "");
    println!("{}", table(&region, &all));
    println!(
        "simulated in {:.1} s on {} thread(s); peak memory {}",
        started.elapsed().as_secs_f64(),
        policies.len(),
        peak_memory().unwrap_or_else(|| "unknown".to_owned())
    );
    write(&args.out.join("sim-summary.csv"), &summary_csv(&region, &all))?;
    write(&args.out.join("sim-origin.csv"), &origin_csv(&region, &all))?;
    write(&args.out.join("sim-served.svg"), &served_svg(&all))?;
    write(&args.out.join("sim-origin.svg"), &origin_svg(&region, &all))?;
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
    let region = Region::morning(usize::try_from(args.students)?, usize::try_from(args.mirrors)?);
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

/// `[#######-------] 08:12 naive  [###-----] 07:40 backoff …  12 s`
fn show_progress(policies: &[Policy], clocks: &[AtomicU64], horizon: u64, elapsed: f64) {
    let mut line = String::from("\r");
    for (policy, clock) in policies.iter().zip(clocks) {
        let time = clock.load(Ordering::Relaxed);
        let done = (20 * time / horizon.max(1)).min(20) as usize;
        let _ =
            write!(line, "{} [{}{}] {}  ", policy.name(), "#".repeat(done), "-".repeat(20 - done), clock_time(time));
    }
    let _ = write!(line, "{elapsed:.0} s");
    eprint!("{line}");
    let _ = std::io::stderr().flush();
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

fn table(region: &Region, all: &[Figures]) -> String {
    let mut text = format!(
        "{:<9} {:>19} {:>22} {:>22} {:>24} {:>8}\n",
        "policy",
        "served % 5/15/60",
        "to coursework s",
        "origin req/s all/retry",
        "bytes % origin/mirr/peer",
        "gave up",
    );
    let _ = writeln!(
        text,
        "{:<9} {:>19} {:>22} {:>22}",
        "",
        "min after arrival",
        "p50 / p95 / p99",
        format!("peak 10 s, cap {}", region.origin.rps)
    );
    for figures in all {
        let served = [5, 15, 60].map(|minutes| format!("{:.1}", 100.0 * figures.share_within(minutes * MINUTE)));
        let times = [0.5, 0.95, 0.99].map(|q| seconds(figures.quantile(q)));
        let bytes = shares(figures).map(|share| format!("{share:.0}"));
        let _ = writeln!(
            text,
            "{:<9} {:>19} {:>22} {:>22} {:>24} {:>8}",
            figures.policy.map_or("?", Policy::name),
            served.join(" / "),
            times.join(" / "),
            format!("{:.0} / {:.0}", figures.origin_peak_rate(0, 10), figures.origin_peak_retry_rate(0, 10)),
            bytes.join(" / "),
            figures.gave_up(),
        );
    }
    text
}

fn summary_csv(region: &Region, all: &[Figures]) -> String {
    let mut text = "policy,students,origin_rps,served_5min,served_15min,served_60min,p50_s,p95_s,p99_s,gave_up,bytes_origin,bytes_mirrors,bytes_peers,bytes_refused,corrupt_accepted,origin_peak_rps_10s,origin_peak_retry_rps_10s,peak_present,restarts,events\n".to_owned();
    for figures in all {
        let quantile = |q| figures.quantile(q).map_or(String::new(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        let _ = writeln!(
            text,
            "{},{},{},{:.4},{:.4},{:.4},{},{},{},{},{},{},{},{},{},{:.1},{:.1},{},{},{}",
            figures.policy.map_or("?", Policy::name),
            region.students,
            region.origin.rps,
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

const COLOURS: [&str; 3] = ["#c0392b", "#d68910", "#1e8449"];

/// A line chart: `series` of (label, points) over `x` in `0..=x_max` and `y` in `0..=y_max`, with
/// `reference` drawn as a dashed horizontal line.
/// With `log`, `y` is drawn on a logarithmic scale from 1 (values below 1 sit on the axis).
fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    (x_max, y_max, log): (f64, f64, bool),
    series: &[(String, Vec<(f64, f64)>)],
    reference: Option<(&str, f64)>,
) -> String {
    let (width, height, left, bottom, top, right) = (720.0, 400.0, 70.0, 50.0, 40.0, 150.0);
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
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<title>{title}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"24\" font-size=\"15\">{title}</text>\n"
    );
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"#333\" points=\"{} {} {}\"/>",
        plot(0.0, y_max),
        plot(0.0, 0.0),
        plot(x_max, 0.0)
    );
    for step in 0..=4 {
        let y = match log {
            true => 10f64.powf(scale(y_max) * f64::from(step) / 4.0),
            false => y_max * f64::from(step) / 4.0,
        };
        let x = x_max * f64::from(step) / 4.0;
        let ((xx, xy), (yx, yy)) = (position(x, 0.0), position(0.0, y));
        let _ = writeln!(svg, "<text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{x:.0}</text>", xy + 18.0);
        let _ = writeln!(svg, "<text x=\"{:.1}\" y=\"{yy:.1}\" text-anchor=\"end\">{y:.0}</text>", yx - 6.0);
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{x_label}</text>",
        (width - right + left) / 2.0,
        height - 12.0
    );
    let _ = writeln!(
        svg,
        "<text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">{y_label}</text>",
        height / 2.0,
        height / 2.0
    );
    for (index, (label, points)) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let line: Vec<String> = points.iter().map(|&(x, y)| plot(x, y)).collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            line.join(" ")
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" fill=\"{colour}\">{label}</text>",
            width - right + 10.0,
            top + 20.0 * index as f64 + 10.0
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
            width - right + 10.0,
            top + 20.0 * series.len() as f64 + 10.0
        );
    }
    svg + "</svg>\n"
}

/// Share of students with the whole coursework against minutes after their arrival, per policy.
fn served_svg(all: &[Figures]) -> String {
    let series: Vec<(String, Vec<(f64, f64)>)> = all
        .iter()
        .map(|figures| {
            let points = (0..=120)
                .map(|half| f64::from(half) / 2.0)
                .map(|minutes| (minutes, 100.0 * figures.share_within((minutes * MINUTE as f64) as u64)));
            (figures.policy.map_or("?", Policy::name).to_owned(), points.collect())
        })
        .collect();
    chart(
        "Students with their whole coursework",
        "minutes after arriving",
        "% of students",
        (60.0, 100.0, false),
        &series,
        None,
    )
}

/// Requests reaching the origin each minute (mean per second) against its capacity, per policy.
fn origin_svg(region: &Region, all: &[Figures]) -> String {
    let series: Vec<(String, Vec<(f64, f64)>)> = all
        .iter()
        .map(|figures| {
            let points = figures.minutes().iter().map(|minute| (minute.minute as f64, minute.offered_mean)).collect();
            (figures.policy.map_or("?", Policy::name).to_owned(), points)
        })
        .collect();
    let top = series
        .iter()
        .flat_map(|(_, points)| points.iter().map(|&(_, y)| y))
        .fold(f64::from(region.origin.rps) * 1.5, f64::max);
    let minutes = (region.horizon() / MINUTE) as f64;
    let capacity = format!("capacity {} req/s", region.origin.rps);
    chart(
        "Requests reaching the origin (mean per second, by minute)",
        "minutes since 07:00",
        "requests / s (log)",
        (minutes, top, true),
        &series,
        Some((&capacity, f64::from(region.origin.rps))),
    )
}

/// The process's peak resident memory, from `/proc/self/status` (Linux only).
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}
