//! `cartable rehearse`: runs the core's standard scenarios (a class against saturated, stalling, lying or
//! down sources) and prints their figures. No I/O but standard output; the simulation is the core's.

use cartable_core::fetch::scenario::{self, Figures};

/// Options of `cartable rehearse`.
#[derive(clap::Args)]
pub struct RehearseArgs {
    /// Seed of the simulation's random numbers: the same seed prints the same figures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Clients (pupils' browsers) in the class.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub clients: u64,
}

/// Runs every standard scenario with `args` and prints one table row per scenario.
pub fn run(args: RehearseArgs) -> anyhow::Result<()> {
    let clients = usize::try_from(args.clients)?;
    println!(
        "{:<30} {:>17} {:>21} {:>8} {:<34} {:>8}",
        "scenario", "full course s", "origin req/client", "origin", "bytes per source %", "corrupt"
    );
    println!("{:<30} {:>17} {:>21} {:>8} {:<34} {:>8}", "", "median / max", "mean / max", "refused", "", "accepted");
    for (name, mut scenario) in scenario::standard() {
        scenario.clients = clients;
        let figures = scenario::run(&scenario, args.seed);
        println!("{}", row(name, &scenario.sources.iter().map(|s| s.kind).collect::<Vec<_>>(), &figures));
    }
    Ok(())
}

fn row(name: &str, kinds: &[cartable_core::fetch::SourceKind], figures: &Figures) -> String {
    let seconds = |time: Option<u64>| time.map_or("-".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0));
    let course = format!("{} / {}", seconds(figures.median_finish()), seconds(figures.max_finish()));
    let origin = format!("{:.1} / {}", figures.origin_mean(), figures.origin_max());
    let shares = shares(kinds, &figures.shares());
    let unfinished = figures.finished.len() - figures.complete();
    let note = if unfinished > 0 { format!("  ({unfinished} clients unfinished)") } else { String::new() };
    format!(
        "{name:<30} {course:>17} {origin:>21} {:>8} {shares:<34} {:>8}{note}",
        figures.origin_refusals, figures.corrupt_accepted
    )
}

/// `origin 12.0 mirror1 44.0 mirror2 44.0`: each source's share, mirrors and peers numbered by kind.
fn shares(kinds: &[cartable_core::fetch::SourceKind], shares: &[f64]) -> String {
    use cartable_core::fetch::SourceKind;
    let (mut mirrors, mut peers) = (0, 0);
    let mut parts = Vec::new();
    for (kind, share) in kinds.iter().zip(shares) {
        let label = match kind {
            SourceKind::Origin => "origin".to_owned(),
            SourceKind::Mirror => {
                mirrors += 1;
                format!("mirror{mirrors}")
            }
            SourceKind::Peer => {
                peers += 1;
                format!("peer{peers}")
            }
        };
        parts.push(format!("{label} {share:.1}"));
    }
    parts.join(" ")
}
