//! `cartable demo`: packs the bundled sample course with a stable demo key and serves it.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::keygen::{self, KeyFiles};
use crate::{keyfile, pack, serve};

/// Where the sample course lives, relative to the project root.
const SAMPLE: &str = "sample/physique-3e";

/// Runs `cartable demo`: keeps (or creates) `<work>/demo-key.*`, packs the sample into
/// `<work>/courses/<id>` with a fresh version, then serves it like `cartable serve`.
pub fn run(host: &str, port: u16, work: Option<PathBuf>) -> anyhow::Result<()> {
    let root = serve::default_root();
    let work = work.unwrap_or_else(|| root.join("target/demo"));
    let files = KeyFiles::named(&work.join("demo-key"));
    let key = match files.secret.exists() {
        true => keyfile::read_secret(&files.secret)?,
        false => keygen::create(&files, true)?,
    };
    // The public file is derived from the secret one, so it can always be rewritten to match it.
    std::fs::write(&files.public, format!("{}\n", key.public()))
        .with_context(|| format!("cannot write {}", files.public.display()))?;
    let settings = pack::Settings { chunk_size: cartable_core::pack::DEFAULT_CHUNK_SIZE, version: None };
    let courses = work.join("courses");
    let summary = pack::publish(&root.join(SAMPLE), &key, &settings, |manifest| courses.join(&manifest.course.id))?;
    println!("{summary}");
    println!("demo key: {} (public key {})", files.secret.display(), key.public());
    let options = serve::Options {
        courses: vec![summary.out],
        pubkey: Some(files.public),
        host: host.to_owned(),
        port,
        www: None,
        pkg: None,
        mirrors: Vec::new(),
        faults: Default::default(),
        access_log: false,
        tracker: serve::TrackerChoice::Embedded,
        db: None,
        teacher_token: None,
        teacher_token_file: None,
        limits: Default::default(),
    };
    let hint: serve::Hint = |base| {
        format!("open {base} in a browser; a school's site embedding it: {base}ecole.html; press Ctrl-C to stop")
    };
    serve::run(&options, Some(hint))
}
