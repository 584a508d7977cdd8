//! `cartable serve`: checks the app, the courses and the faults asked for, then listens
//! (`serve/listener.rs`). Answers come from `serve/site.rs`, through the faults of `serve/origin.rs`;
//! pupils' work goes to `serve/submissions.rs`, the register and the teacher view.

mod faults;
mod listener;
mod origin;
mod policy;
mod quota;
mod register;
mod site;
mod stats;
mod submissions;
mod teacher;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use cartable_core::tracker::DEFAULT_INTERVAL_SECS;
use cartable_core::{Cid, Manifest, PublicKey};

pub use faults::FaultArgs;
pub use submissions::Limits;

use crate::listen::{self, url};
use crate::tracker::{self, Tracker};
use crate::{keyfile, verify};
use faults::Faults;
use origin::Origin;
use register::Register;
use site::{Site, CONFIG_OPEN};
use submissions::Desk;

/// What to serve and where to listen.
pub struct Options {
    /// Packed course folders; the first one is the course the index page shows.
    pub courses: Vec<PathBuf>,
    /// Public key file every course manifest must verify with (required with courses).
    pub pubkey: Option<PathBuf>,
    /// Host name or address to listen on.
    pub host: String,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Static pages folder; `<root>/www` by default.
    pub www: Option<PathBuf>,
    /// Built app folder; `<root>/pkg` by default.
    pub pkg: Option<PathBuf>,
    /// Mirror base URLs of the shown course, for the page's config block.
    pub mirrors: Vec<String>,
    /// Faults to inject into the origin's answers.
    pub faults: Faults,
    /// Log each request on standard error.
    pub access_log: bool,
    /// Which tracker the page's config block names.
    pub tracker: TrackerChoice,
    /// The SQLite file of pupils' submissions; `submissions.sqlite` beside the first course folder by
    /// default.
    pub db: Option<PathBuf>,
    /// The teacher view's token; else [`Options::teacher_token_file`]'s, else `CARTABLE_TEACHER_TOKEN`,
    /// else a random one, made and printed.
    pub teacher_token: Option<String>,
    /// A file holding the teacher view's token on its first line.
    pub teacher_token_file: Option<PathBuf>,
    /// How much pupils may send, and how fast.
    pub limits: Limits,
}

/// Which tracker the page uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TrackerChoice {
    /// The one `serve` embeds at `/tracker`.
    #[default]
    Embedded,
    /// Another one, by URL (the embedded one is not served).
    Elsewhere(String),
    /// None: no peer sharing.
    None,
}

/// The project folder: the current one if it holds `www/index.html`, else the source checkout this
/// binary was built from.
pub fn default_root() -> PathBuf {
    let here = PathBuf::from(".");
    if here.join("www/index.html").is_file() {
        return here;
    }
    let built_from = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    std::fs::canonicalize(&built_from).unwrap_or(built_from)
}

/// A last line printed under the address, made from the base URL (the demo's "open it" line).
pub type Hint = fn(&str) -> String;

/// Runs the server until Ctrl-C or SIGTERM. Prints the address line first, then a line per course,
/// then the `hint` line if given, then where submissions are kept and the teacher view, with its token
/// if it was drawn at random.
pub fn run(options: &Options, hint: Option<Hint>) -> anyhow::Result<()> {
    let (mut site, manifests, key) = open_site(options)?;
    check_faults(&options.faults, &manifests, &site.pkg)?;
    let (listener, port) = listen::bind(&options.host, options.port)?;
    let tracker_url = match &options.tracker {
        TrackerChoice::Embedded => Some(format!("{}{}", url("ws", &options.host, port), &tracker::PATH[1..])),
        TrackerChoice::Elsewhere(url) => Some(url.clone()),
        TrackerChoice::None => None,
    };
    if let (Some(first), Some(key)) = (manifests.first(), key) {
        site.config = Some(config_json(first, &key, &options.mirrors, tracker_url.as_deref()));
        site.embedded = Some((manifest_path(first), key.to_string()));
    }
    site.mirror_origins = options.mirrors.iter().filter_map(|mirror| policy::origin_of(mirror)).collect();
    let runtime = listen::runtime("server")?;
    runtime.block_on(site.fill_pages())?;
    let desk = open_desk(options)?;
    // Opened before the address is printed: whoever reads that line may use the database at once.
    let register = desk.as_ref().map(|(path, _)| Register::open(path)).transpose()?;
    let base = url("http", &options.host, port);
    // A token the school chose stays off standard output, which often ends up in a log; a drawn one
    // must be shown, or nobody could open the view.
    let drawn = options.teacher_token.is_none()
        && options.teacher_token_file.is_none()
        && std::env::var_os(TOKEN_VARIABLE).is_none();
    let shown = desk.as_ref().map(|(path, token)| (path.as_path(), drawn.then_some(token.as_str())));
    announce(&base, &manifests, shown, hint).context("cannot write to standard output")?;
    let desk = desk.zip(register).map(|((_, token), register)| {
        let faults = &options.faults;
        Desk::new(register, token, options.limits, faults.refuse_submissions, faults.drop_response_every)
    });
    listener.set_nonblocking(true).context("cannot set up the listening socket")?;
    let origin = Origin::new(site, options.faults.clone(), options.access_log, desk);
    let tracker = (options.tracker == TrackerChoice::Embedded).then(|| Tracker::new(DEFAULT_INTERVAL_SECS));
    runtime.block_on(listener::serve(listener, Arc::new(origin), tracker))
}

/// Refuses a `--corrupt` chunk that is neither a chunk of a served course nor, unless the app is
/// spared, one of the app's in `<pkg>/ipfs/`: the fault would never show.
fn check_faults(faults: &Faults, manifests: &[Manifest], pkg: &Path) -> anyhow::Result<()> {
    let in_course = |cid| manifests.iter().flat_map(|m| &m.files).any(|file| file.chunks.contains(cid));
    let in_app = |cid: &Cid| !faults.spare_app && pkg.join("ipfs").join(cid.to_string()).is_file();
    match faults.corrupt.iter().find(|cid| !in_course(cid) && !in_app(cid)) {
        Some(cid) => bail!(
            "--corrupt {cid}: no served course has this chunk, nor the app{} (pick a file name from a course's \
             ipfs/ or from {})",
            if faults.spare_app { " under --spare-app" } else { "" },
            pkg.join("ipfs").display()
        ),
        None => Ok(()),
    }
}

/// Where submissions are kept and the teacher's token, when courses are served (none without: there is
/// nothing to hand work in for).
fn open_desk(options: &Options) -> anyhow::Result<Option<(PathBuf, String)>> {
    let Some(first) = options.courses.first() else { return Ok(None) };
    let path = match &options.db {
        Some(path) => path.clone(),
        None => {
            let folder = std::fs::canonicalize(first).with_context(|| format!("cannot open {}", first.display()))?;
            folder.parent().unwrap_or(&folder).join("submissions.sqlite")
        }
    };
    Ok(Some((path, teacher_token(options, std::env::var(TOKEN_VARIABLE).ok())?)))
}

/// Where the teacher's token may come from besides the command line, which every user sees in `ps`.
pub const TOKEN_VARIABLE: &str = "CARTABLE_TEACHER_TOKEN";

/// The teacher's token: `--teacher-token`, else the first line of `--teacher-token-file`, else
/// `variable`, the value of [`TOKEN_VARIABLE`], else a random one.
fn teacher_token(options: &Options, variable: Option<String>) -> anyhow::Result<String> {
    if let Some(token) = &options.teacher_token {
        return checked_token(token, "--teacher-token");
    }
    if let Some(path) = &options.teacher_token_file {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("cannot read the teacher's token from {} (--teacher-token-file)", path.display())
        })?;
        return checked_token(text.lines().next().unwrap_or_default().trim(), &path.display().to_string());
    }
    match variable {
        Some(token) => checked_token(&token, TOKEN_VARIABLE),
        None => random_token(),
    }
}

/// `token` if it is fit to guard pupils' work: 8 characters or more, no spaces; `source` names where it
/// came from in the error.
fn checked_token(token: &str, source: &str) -> anyhow::Result<String> {
    match token.len() >= 8 && !token.contains(char::is_whitespace) {
        true => Ok(token.to_owned()),
        false => bail!("the teacher token of {source} must be at least 8 characters, without spaces"),
    }
}

/// 128 random bits as 32 hexadecimal digits.
fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| anyhow!("cannot draw a teacher token: {error}"))?;
    Ok(cartable_core::submission::key_from(bytes))
}

fn announce(
    base: &str,
    manifests: &[Manifest],
    desk: Option<(&Path, Option<&str>)>,
    hint: Option<Hint>,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "cartable serve: {base}")?;
    for manifest in manifests {
        let (title, version, id) = (&manifest.course.title, manifest.version, &manifest.course.id);
        writeln!(out, "  course \"{title}\" v{version}: {base}courses/{id}/manifest.json")?;
    }
    if let Some(hint) = hint {
        writeln!(out, "{}", hint(base))?;
    }
    if let Some((path, token)) = desk {
        writeln!(out, "  submissions: {}", path.display())?;
        match token {
            Some(token) => writeln!(out, "  teacher view: {base}teacher (token {token})")?,
            None => writeln!(out, "  teacher view: {base}teacher (with the token given)")?,
        }
    }
    out.flush()
}

/// Checks the app folders and every course, and builds the `Site` to serve (its config block is filled
/// in once the port is known), with the manifests and the key they verified with.
fn open_site(options: &Options) -> anyhow::Result<(Site, Vec<Manifest>, Option<PublicKey>)> {
    let root = default_root();
    let www = options.www.clone().unwrap_or_else(|| root.join("www"));
    let pkg = options.pkg.clone().unwrap_or_else(|| root.join("pkg"));
    check_app(&www, &pkg)?;
    let (www, pkg) = (canonical_folder(www, "--www")?, canonical_folder(pkg, "--pkg")?);
    let key = match (&options.pubkey, options.courses.is_empty()) {
        (Some(path), _) => Some(keyfile::read_public(path)?),
        (None, true) => None,
        (None, false) => {
            bail!("--pubkey is required with --course: pass the school's .pub file written by `cartable keygen`")
        }
    };
    let (courses, manifests) = open_courses(&options.courses, key.as_ref())?;
    if !manifests.is_empty() {
        check_config_block(&www)?;
    }
    Ok((Site::new(www, pkg, courses), manifests, key))
}

fn open_courses(
    dirs: &[PathBuf],
    key: Option<&PublicKey>,
) -> anyhow::Result<(BTreeMap<String, PathBuf>, Vec<Manifest>)> {
    let (mut courses, mut manifests) = (BTreeMap::new(), Vec::new());
    for dir in dirs {
        let key = key.ok_or_else(|| anyhow!("--pubkey is required with --course"))?;
        let manifest =
            verify::read_manifest(dir, key).with_context(|| format!("cannot serve course {}", dir.display()))?;
        let id = manifest.course.id.clone();
        let canonical = canonical_folder(dir.clone(), "--course")?;
        if let Some(other) = courses.insert(id.clone(), canonical) {
            bail!(
                "{} and {} are both course `{id}`: serve one version of a course at a time",
                other.display(),
                dir.display()
            );
        }
        manifests.push(manifest);
    }
    Ok((courses, manifests))
}

/// Where the served course's manifest is, relative to the app page.
fn manifest_path(manifest: &Manifest) -> String {
    format!("courses/{}/manifest.json", manifest.course.id)
}

/// The page's config block: the shown course, the key, and the mirrors and tracker if any.
fn config_json(manifest: &Manifest, key: &PublicKey, mirrors: &[String], tracker: Option<&str>) -> String {
    let manifest_path = manifest_path(manifest);
    let quoted = |text: &str| serde_json::Value::from(text).to_string();
    let mut config = format!(r#"{{"manifest": {}, "key": {}"#, quoted(&manifest_path), quoted(&key.to_string()));
    if !mirrors.is_empty() {
        config += &format!(r#", "mirrors": {}"#, serde_json::json!(mirrors));
    }
    if let Some(tracker) = tracker {
        config += &format!(r#", "tracker": {}"#, quoted(tracker));
    }
    config + "}"
}

fn canonical_folder(dir: PathBuf, option: &str) -> anyhow::Result<PathBuf> {
    let canonical = std::fs::canonicalize(&dir)
        .with_context(|| format!("{} not found: pass an existing folder with {option}", dir.display()))?;
    if !canonical.is_dir() {
        bail!("{} is not a folder: pass a folder with {option}", dir.display());
    }
    Ok(canonical)
}

fn check_app(www: &Path, pkg: &Path) -> anyhow::Result<()> {
    let index = www.join("index.html");
    if !index.is_file() {
        bail!("{} not found: pass the folder of the app's static pages with --www", index.display());
    }
    for name in ["cartable_bg.wasm", "cartable.js"] {
        let file = pkg.join(name);
        if !file.is_file() {
            bail!("{} not found: build the app first (./scripts/demo.sh does it)", file.display());
        }
    }
    Ok(())
}

fn check_config_block(www: &Path) -> anyhow::Result<()> {
    let index = www.join("index.html");
    let page = std::fs::read_to_string(&index).with_context(|| format!("cannot read {}", index.display()))?;
    match site::with_config(&page, "") {
        Some(_) => Ok(()),
        None => {
            bail!("{}: no `{CONFIG_OPEN}` ... `</script>` block to put the course and key in: add one", index.display())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(token: Option<&str>, file: Option<PathBuf>) -> Options {
        Options {
            courses: Vec::new(),
            pubkey: None,
            host: "127.0.0.1".into(),
            port: 0,
            www: None,
            pkg: None,
            mirrors: Vec::new(),
            faults: Faults::default(),
            access_log: false,
            tracker: TrackerChoice::None,
            db: None,
            teacher_token: token.map(str::to_owned),
            teacher_token_file: file,
            limits: Limits::default(),
        }
    }

    #[test]
    fn the_token_comes_from_the_flag_the_file_the_environment_or_chance() {
        let folder = tempfile::tempdir().expect("temp dir");
        let file = folder.path().join("token");
        std::fs::write(&file, "from-the-file\nnot this line\n").expect("write");
        let variable = || Some("from-the-environment".to_owned());
        let token = |token, file, variable| teacher_token(&options(token, file), variable).expect("a token");
        assert_eq!(token(Some("from-the-flag"), Some(file.clone()), variable()), "from-the-flag");
        assert_eq!(token(None, Some(file.clone()), variable()), "from-the-file");
        assert_eq!(token(None, None, variable()), "from-the-environment");
        assert_eq!(token(None, None, None).len(), 32, "a random one");
        let short = teacher_token(&options(None, None), Some("short".into())).expect_err("too short");
        assert!(format!("{short:#}").contains(TOKEN_VARIABLE), "{short:#}");
        let missing = teacher_token(&options(None, Some(folder.path().join("none"))), None).expect_err("no file");
        assert!(format!("{missing:#}").contains("--teacher-token-file"), "{missing:#}");
    }
}
