//! The `cartable` command: a map from each subcommand to the module that runs it. No logic here.

mod clock;
mod compress;
mod demo;
mod folder;
mod keyfile;
mod keygen;
mod listen;
mod mirror;
mod pack;
mod rehearse;
mod serve;
mod shell;
mod sim;
mod tracker;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keys, packing, verification and a local origin for cartable courses.
#[derive(Parser)]
#[command(name = "cartable", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a school signing key: NAME.secret (keep it private) and NAME.pub (pin it in the pages).
    Keygen {
        /// Path and base name of the key files, such as `keys/college-jaures`.
        name: PathBuf,
        /// Replace existing key files (pages that pin the old public key will refuse new courses).
        #[arg(long)]
        force: bool,
    },
    /// Pack a course folder into content-addressed chunks and a signed manifest.json.
    Pack {
        /// The course folder: course.toml, agenda.toml, lessons/*.md and the files they use.
        dir: PathBuf,
        /// The school's secret key file, written by `cartable keygen`.
        #[arg(long)]
        key: PathBuf,
        /// Output folder: receives manifest.json and ipfs/<cid> chunk files.
        #[arg(long)]
        out: PathBuf,
        /// Chunk size in bytes.
        #[arg(long, default_value_t = cartable_core::pack::DEFAULT_CHUNK_SIZE, value_parser = chunk_size)]
        chunk_size: u32,
        /// Version number of this publication [default: current unix time]; must grow every time.
        #[arg(long)]
        version: Option<u64>,
    },
    /// Check a packed course: its signature, and that every chunk is present and intact.
    Verify {
        /// The packed folder (manifest.json and ipfs/).
        dir: PathBuf,
        /// The school's public key file (.pub) the manifest must be signed with.
        #[arg(long)]
        pubkey: PathBuf,
    },
    /// Export a packed course as a mirror tree (manifest.json + ipfs/<cid>) for any static host, with the
    /// built app beside it (shell.json, its chunks in the same ipfs/ and their gzip and brotli copies).
    ///
    /// Every chunk is checked against its CID while it is copied; a corrupt or missing one stops the
    /// export, naming the file, and nothing is left behind. The tree is written beside --out, then renamed.
    Mirror {
        /// The packed folder (manifest.json and ipfs/), written by `cartable pack`.
        dir: PathBuf,
        /// The mirror folder to create; serve it as static files with `Access-Control-Allow-Origin: *`.
        #[arg(long)]
        out: PathBuf,
        /// The school's public key file (.pub) to check the signature with [default: the key the manifest
        /// names, which only proves it is intact].
        #[arg(long)]
        pubkey: Option<PathBuf>,
        /// Folder of the built app to export beside the course (its shell.json and chunks) [default:
        /// <root>/pkg].
        #[arg(long, conflicts_with = "no_app")]
        pkg: Option<PathBuf>,
        /// Export the course alone, without the app: the mirror then serves courses, not the app shell.
        #[arg(long)]
        no_app: bool,
        /// Replace the contents of a non-empty --out.
        #[arg(long)]
        force: bool,
    },
    /// Serve the app and packed courses over HTTP, as a school's origin would, with a tracker at /tracker.
    Serve(Box<ServeArgs>),
    /// List the built app's shell and write what the origin and mirrors serve of it (the build's last step).
    ///
    /// Cuts the files pages load (style.css, pkg/cartable.js, the wasm, snippets) and the worker's wasm into
    /// content-addressed chunks under pkg/ipfs/, writes brotli and gzip copies of every file served and of
    /// every chunk (named by the CID of the uncompressed bytes; copies already there are kept), then
    /// pkg/shell.json, and appends the build id and the list to the worker's module, pkg/cartable_sw.js.
    /// ./scripts/setup.sh runs it.
    Shell {
        /// Folder of the static pages (index.html, sw.js, style.css...) [default: <root>/www].
        #[arg(long)]
        www: Option<PathBuf>,
        /// Folder of the built app (cartable.js, cartable_bg.wasm, cartable_sw_bg.wasm) [default: <root>/pkg].
        #[arg(long)]
        pkg: Option<PathBuf>,
    },
    /// Rehearse a class's morning in simulation: the scheduler against a 503 storm, a 429 without
    /// Retry-After, a stalling origin, a lying mirror, an origin down then back, and a healthy origin.
    ///
    /// Prints, per scenario: time to the full course (median / max over clients), requests to the origin
    /// per client (mean / max), requests the origin refused, each source's share of the bytes, and the
    /// corrupt chunks accepted (always 0).
    Rehearse(rehearse::RehearseArgs),
    /// Simulate a region's morning: N students arriving around 08:00 in classes of 30, each class with its
    /// course, fetching from the origin, mirrors and classmates under three client policies (naive,
    /// backoff only, cartable) on the same arrivals, one thread each, with a progress bar.
    ///
    /// Prints, per policy: the share of students with their whole coursework 5, 15 and 60 minutes after
    /// arriving, p50/p95/p99 of that time, the origin's busiest 10 s against its capacity (all requests,
    /// and those of clients it had refused before), and bytes by source; then wall time and peak memory.
    /// Writes `sim-summary.csv`, `sim-origin.csv` (the origin's load minute by minute), `sim-served.svg`
    /// and `sim-origin.svg` to --out.
    Sim(sim::SimArgs),
    /// Relay WebRTC signalling between classmates' browsers: a WebTorrent tracker over WebSocket.
    ///
    /// Browsers that hold the same course announce its swarm (a hash of the course id) and exchange
    /// connection offers and answers through the tracker; it never sees course content. Any WebTorrent
    /// tracker works the same way (aquatic_ws for many schools). `cartable serve` embeds one at /tracker.
    Tracker(tracker::TrackerArgs),
    /// Pack the bundled sample course with a demo key and serve it: the quickest way to try cartable.
    Demo {
        #[command(flatten)]
        listen: Listen,
        /// Working folder for the demo key and the packed course [default: <root>/target/demo].
        #[arg(long)]
        work: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// A packed course folder to serve under /courses/<id>/ (repeatable; the first one is shown at /).
    #[arg(long = "course")]
    courses: Vec<PathBuf>,
    /// The school's public key file (.pub); required with --course, every manifest must verify with it.
    #[arg(long)]
    pubkey: Option<PathBuf>,
    #[command(flatten)]
    listen: Listen,
    /// Folder of the static pages (index.html, embed.html, sw.js, style.css...) [default: <root>/www].
    #[arg(long)]
    www: Option<PathBuf>,
    /// Folder of the built app (cartable.js, cartable_bg.wasm) [default: <root>/pkg].
    #[arg(long)]
    pkg: Option<PathBuf>,
    /// Base URL of a mirror of the shown course (a tree written by `cartable mirror`, or an IPFS gateway),
    /// put in the page's config block (repeatable).
    #[arg(long = "mirror", value_name = "URL", value_parser = mirror_url)]
    mirrors: Vec<String>,
    /// Print one line per request (`GET /path 200 12345`: method, path, status, body bytes as sent) on
    /// standard error; a request dropped without an answer is logged as `000 0`.
    #[arg(long)]
    access_log: bool,
    /// Do not serve the embedded tracker at /tracker, nor name it in the page's config block.
    #[arg(long, conflicts_with = "tracker")]
    no_tracker: bool,
    /// Name another tracker (ws:// or wss:// URL, such as an aquatic_ws) in the page's config block, instead
    /// of the embedded one.
    #[arg(long, value_name = "URL", value_parser = tracker_url)]
    tracker: Option<String>,
    /// The SQLite file where pupils' submissions are kept [default: submissions.sqlite beside the first
    /// --course folder].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// The token that opens the teacher view at /teacher (8 characters or more). Visible to every user of
    /// the machine in `ps`: prefer --teacher-token-file or CARTABLE_TEACHER_TOKEN. A random one is printed
    /// at start when none is given.
    #[arg(long, value_name = "TOKEN")]
    teacher_token: Option<String>,
    /// A file whose first line is the teacher's token (kept out of `ps`).
    #[arg(long, value_name = "PATH", conflicts_with = "teacher_token")]
    teacher_token_file: Option<PathBuf>,
    #[command(flatten)]
    limits: serve::Limits,
    #[command(flatten)]
    faults: serve::FaultArgs,
}

#[derive(clap::Args)]
struct Listen {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Keygen { name, force } => keygen::run(&name, force),
        Command::Pack { dir, key, out, chunk_size, version } => {
            pack::run(&dir, &key, &out, &pack::Settings { chunk_size, version })
        }
        Command::Verify { dir, pubkey } => verify::run(&dir, &pubkey),
        Command::Mirror { dir, out, pubkey, pkg, no_app, force } => {
            let app = (!no_app).then(|| pkg.unwrap_or_else(|| serve::default_root().join("pkg")));
            mirror::run(&dir, &out, pubkey.as_deref(), app.as_deref(), force)
        }
        Command::Serve(args) => serve::run(&serve_options(*args), None),
        Command::Shell { www, pkg } => {
            let root = serve::default_root();
            shell::run(&www.unwrap_or_else(|| root.join("www")), &pkg.unwrap_or_else(|| root.join("pkg")))
        }
        Command::Demo { listen, work } => demo::run(&listen.host, listen.port, work),
        Command::Rehearse(args) => rehearse::run(args),
        Command::Sim(args) => sim::run(&args),
        Command::Tracker(args) => tracker::run(&args),
    }
}

/// Parses `--chunk-size`, within the range the core accepts.
fn chunk_size(text: &str) -> Result<u32, String> {
    let max = cartable_core::pack::MAX_CHUNK_SIZE;
    match text.parse::<u32>() {
        Ok(size) if (1..=max).contains(&size) => Ok(size),
        _ => Err(format!("expected a number of bytes from 1 to {max}")),
    }
}

/// Accepts `--tracker` as a ws(s) URL.
fn tracker_url(text: &str) -> Result<String, String> {
    match (text.starts_with("ws://") || text.starts_with("wss://")) && !text.contains(char::is_whitespace) {
        true => Ok(text.to_owned()),
        false => Err("expected a ws:// or wss:// URL, such as wss://tracker.example/".into()),
    }
}

/// Accepts `--mirror` as an http(s) URL, ending it with `/` (the mirror's folder).
fn mirror_url(text: &str) -> Result<String, String> {
    if !(text.starts_with("http://") || text.starts_with("https://")) || text.contains(char::is_whitespace) {
        return Err("expected an http:// or https:// URL, such as https://miroir.example/physique-3e/".into());
    }
    Ok(if text.ends_with('/') { text.to_owned() } else { format!("{text}/") })
}

fn serve_options(args: ServeArgs) -> serve::Options {
    serve::Options {
        courses: args.courses,
        pubkey: args.pubkey,
        host: args.listen.host,
        port: args.listen.port,
        www: args.www,
        pkg: args.pkg,
        mirrors: args.mirrors,
        faults: args.faults.into(),
        access_log: args.access_log,
        tracker: match (args.no_tracker, args.tracker) {
            (true, _) => serve::TrackerChoice::None,
            (false, Some(url)) => serve::TrackerChoice::Elsewhere(url),
            (false, None) => serve::TrackerChoice::Embedded,
        },
        db: args.db,
        teacher_token: args.teacher_token,
        teacher_token_file: args.teacher_token_file,
        limits: args.limits,
    }
}
