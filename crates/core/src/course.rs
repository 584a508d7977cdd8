//! The teacher's side of the course format: `course.toml` and `agenda.toml`, read with line numbers so
//! that every mistake can be pointed at. Pure: text in, values or a located error out.

use serde::Deserialize;
use toml::Spanned;

use crate::date::Date;
use crate::located::PackError;
use crate::manifest::{ice_url_problem, IceServer, PeerPolicy, RELAY_ONLY_NEEDS_TURN, TURN_NEEDS_CREDENTIALS};

/// How long a packed course stays valid when `course.toml` does not say.
pub const DEFAULT_VALID_DAYS: u32 = 60;

/// `course.toml`: who the course is for and where else it may be fetched from.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct CourseToml {
    /// Stable identifier (lowercase letters, digits, dashes).
    pub id: Spanned<String>,
    /// Title of the course.
    pub title: Spanned<String>,
    /// Class, such as "3e B".
    pub class: String,
    /// Subject, such as "Physique-chimie".
    pub subject: String,
    /// Teacher's name.
    pub teacher: String,
    /// Language of the content, such as "fr".
    pub language: String,
    /// Days until the packed manifest expires.
    #[serde(default = "default_valid_days")]
    pub valid_days: Spanned<u32>,
    /// Mirror base URLs.
    #[serde(default)]
    pub mirrors: Vec<Spanned<String>>,
    /// Tracker WebSocket URLs.
    #[serde(default)]
    pub trackers: Vec<Spanned<String>>,
    /// The `[peers]` table: what the school allows between classmates.
    #[serde(default)]
    pub peers: PeersToml,
}

/// The `[peers]` table of `course.toml`, positions kept.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct PeersToml {
    /// Whether classmates share the course (`true` when left out).
    #[serde(default = "sharing_by_default")]
    pub sharing: bool,
    /// Whether classmates connect through TURN relays only.
    #[serde(default = "no_relay_only")]
    pub relay_only: Spanned<bool>,
    /// The `[[peers.ice]]` tables: STUN and TURN servers.
    #[serde(default)]
    pub ice: Vec<IceToml>,
}

/// One `[[peers.ice]]` table, positions kept.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct IceToml {
    /// `stun:`, `turn:` or `turns:` URLs of one server.
    pub urls: Spanned<Vec<Spanned<String>>>,
    /// TURN user name.
    pub username: Option<String>,
    /// TURN password.
    pub credential: Option<String>,
}

impl Default for PeersToml {
    fn default() -> PeersToml {
        PeersToml { sharing: true, relay_only: no_relay_only(), ice: Vec::new() }
    }
}

impl PeersToml {
    /// The policy as the manifest carries it.
    pub fn policy(&self) -> PeerPolicy {
        let ice = self.ice.iter().map(|server| IceServer {
            urls: server.urls.get_ref().iter().map(|url| url.get_ref().clone()).collect(),
            username: server.username.clone(),
            credential: server.credential.clone(),
        });
        PeerPolicy { sharing: self.sharing, relay_only: *self.relay_only.get_ref(), ice: ice.collect() }
    }
}

fn sharing_by_default() -> bool {
    true
}

fn no_relay_only() -> Spanned<bool> {
    Spanned::new(0..0, false)
}

fn default_valid_days() -> Spanned<u32> {
    Spanned::new(0..0, DEFAULT_VALID_DAYS)
}

/// One `[[homework]]` table of `agenda.toml`, positions kept.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HomeworkToml {
    /// Subject.
    pub subject: String,
    /// What to do.
    pub task: String,
    /// Due date, `YYYY-MM-DD`.
    pub due: Spanned<String>,
    /// Course paths of attached files.
    #[serde(default)]
    pub attachments: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgendaToml {
    #[serde(default)]
    homework: Vec<HomeworkToml>,
}

/// Reads `course.toml`, checking the id, the title, the validity and the URLs.
pub fn parse_course(text: &str) -> Result<CourseToml, PackError> {
    const FILE: &str = "course.toml";
    let course: CourseToml = toml::from_str(text).map_err(|error| PackError::from_toml(FILE, text, &error))?;
    let at = |span: std::ops::Range<usize>, message: String| PackError::at(FILE, text, span.start, message);
    let id = course.id.get_ref();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(at(course.id.span(), format!("id `{id}` may only hold lowercase letters, digits and dashes")));
    }
    if course.title.get_ref().trim().is_empty() {
        return Err(at(course.title.span(), "title is empty: give the course a title".into()));
    }
    if !(1..=3650).contains(course.valid_days.get_ref()) {
        return Err(at(course.valid_days.span(), "valid_days must be between 1 and 3650".into()));
    }
    for mirror in &course.mirrors {
        if !mirror.get_ref().starts_with("https://") && !mirror.get_ref().starts_with("http://") {
            return Err(at(mirror.span(), format!("mirror `{}` must be an http(s) URL", mirror.get_ref())));
        }
    }
    for tracker in &course.trackers {
        if !tracker.get_ref().starts_with("wss://") && !tracker.get_ref().starts_with("ws://") {
            return Err(at(tracker.span(), format!("tracker `{}` must be a ws(s) URL", tracker.get_ref())));
        }
    }
    check_peers(&course.peers, text)?;
    Ok(course)
}

/// Checks the `[peers]` table, pointing at the URL or the `relay_only` line at fault.
fn check_peers(peers: &PeersToml, text: &str) -> Result<(), PackError> {
    let at = |span: std::ops::Range<usize>, message: String| PackError::at("course.toml", text, span.start, message);
    for server in &peers.ice {
        let urls = server.urls.get_ref();
        if urls.is_empty() {
            return Err(at(server.urls.span(), "an ice server needs at least one URL in urls".into()));
        }
        if let Some((url, problem)) = urls.iter().find_map(|url| Some((url, ice_url_problem(url.get_ref())?))) {
            return Err(at(url.span(), problem));
        }
        let turn = urls.iter().find(|url| url.get_ref().starts_with("turn:") || url.get_ref().starts_with("turns:"));
        if let Some(turn) = turn.filter(|_| server.username.is_none() || server.credential.is_none()) {
            return Err(at(turn.span(), TURN_NEEDS_CREDENTIALS.into()));
        }
    }
    if *peers.relay_only.get_ref() && !peers.policy().has_relay() {
        return Err(at(peers.relay_only.span(), RELAY_ONLY_NEEDS_TURN.into()));
    }
    Ok(())
}

/// Reads `agenda.toml`, checking every due date.
pub fn parse_agenda(text: &str) -> Result<Vec<(HomeworkToml, Date)>, PackError> {
    const FILE: &str = "agenda.toml";
    let agenda: AgendaToml = toml::from_str(text).map_err(|error| PackError::from_toml(FILE, text, &error))?;
    agenda
        .homework
        .into_iter()
        .map(|homework| match homework.due.get_ref().parse::<Date>() {
            Ok(date) => Ok((homework, date)),
            Err(error) => Err(PackError::at(FILE, text, homework.due.span().start, error.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COURSE: &str = "id = \"physique-3e\"\ntitle = \"L'électricité\"\nclass = \"3e B\"\n\
        subject = \"Physique-chimie\"\nteacher = \"Mme Lefèvre\"\nlanguage = \"fr\"\n";

    #[track_caller]
    fn check_course_error(text: &str, expected: &str) {
        assert_eq!(parse_course(text).unwrap_err().to_string(), expected);
    }

    #[test]
    fn reads_a_course() {
        let course = parse_course(COURSE).unwrap();
        assert_eq!(course.title.get_ref(), "L'électricité");
        assert_eq!(*course.valid_days.get_ref(), DEFAULT_VALID_DAYS);
    }

    #[test]
    fn points_at_course_mistakes() {
        check_course_error(&COURSE.replace("title = \"L'électricité\"\n", ""), "course.toml: missing field `title`");
        check_course_error(
            &COURSE.replace("\"L'électricité\"", "\" \""),
            "course.toml:2: title is empty: give the course a title",
        );
        check_course_error(
            &COURSE.replace("physique-3e", "Physique 3e"),
            "course.toml:1: id `Physique 3e` may only hold lowercase letters, digits and dashes",
        );
        check_course_error(
            &format!("{COURSE}mirrors = [\"ftp://x\"]\n"),
            "course.toml:7: mirror `ftp://x` must be an http(s) URL",
        );
        let unterminated = COURSE.replace("\"3e B\"", "\"3e B");
        assert!(parse_course(&unterminated).unwrap_err().to_string().starts_with("course.toml:3: "));
    }

    const TURN: &str = "\n[peers]\nrelay_only = true\n\n[[peers.ice]]\nurls = [\"stun:stun.example.fr\"]\n\n\
        [[peers.ice]]\nurls = [\"turn:turn.example.fr:3478\", \"turns:turn.example.fr:5349\"]\n\
        username = \"cartable\"\ncredential = \"s3cret\"\n";

    #[test]
    fn peers_are_shared_without_relays_unless_the_school_says_otherwise() {
        assert_eq!(parse_course(COURSE).unwrap().peers.policy(), PeerPolicy::default());
        let off = parse_course(&format!("{COURSE}[peers]\nsharing = false\n")).unwrap().peers.policy();
        assert_eq!(off, PeerPolicy { sharing: false, ..PeerPolicy::default() });
    }

    #[test]
    fn reads_relay_only_mode_and_its_servers() {
        let policy = parse_course(&format!("{COURSE}{TURN}")).unwrap().peers.policy();
        assert!(policy.sharing && policy.relay_only);
        assert_eq!(policy.ice.len(), 2);
        assert_eq!(
            policy.ice[0],
            IceServer { urls: vec!["stun:stun.example.fr".into()], username: None, credential: None }
        );
        assert_eq!(policy.ice[1].urls, ["turn:turn.example.fr:3478", "turns:turn.example.fr:5349"]);
        assert_eq!(
            (policy.ice[1].username.as_deref(), policy.ice[1].credential.as_deref()),
            (Some("cartable"), Some("s3cret"))
        );
        assert_eq!(policy.problem(), None);
    }

    #[test]
    fn points_at_peer_mistakes() {
        check_course_error(
            &format!("{COURSE}[peers]\nsharing = \"non\"\n"),
            "course.toml:8: invalid type: string \"non\", expected a boolean",
        );
        check_course_error(
            &format!("{COURSE}[peers]\nrelay_only = true\n"),
            "course.toml:8: relay_only needs a TURN server: add a [[peers.ice]] table with a turn: or turns: URL",
        );
        check_course_error(
            &format!("{COURSE}[peers]\nrelay_only = true\n[[peers.ice]]\nurls = [\"stun:stun.example.fr\"]\n"),
            "course.toml:8: relay_only needs a TURN server: add a [[peers.ice]] table with a turn: or turns: URL",
        );
        check_course_error(
            &format!("{COURSE}{TURN}").replace("\"stun:stun", "\"https://stun"),
            "course.toml:12: ice server `https://stun.example.fr` must be a stun:, turn: or turns: URL",
        );
        check_course_error(
            &format!("{COURSE}{TURN}").replace("credential = \"s3cret\"\n", ""),
            "course.toml:15: a TURN server needs a username and a credential",
        );
        check_course_error(
            &format!("{COURSE}[[peers.ice]]\nurls = []\n"),
            "course.toml:8: an ice server needs at least one URL in urls",
        );
        check_course_error(
            &format!("{COURSE}[peers]\nrelay = true\n"),
            "course.toml:8: unknown field `relay`, expected one of `sharing`, `relay_only`, `ice`",
        );
    }

    #[test]
    fn points_at_a_bad_due_date() {
        let agenda = "[[homework]]\nsubject = \"Maths\"\ntask = \"Ex. 4\"\ndue = \"2026-12-03\"\n\n\
            [[homework]]\nsubject = \"SVT\"\ntask = \"Ex. 5\"\ndue = \"2026-02-30\"\n";
        let error = parse_agenda(agenda).unwrap_err().to_string();
        assert_eq!(error, "agenda.toml:9: `2026-02-30` is not a date: write it as YYYY-MM-DD, e.g. 2026-12-03");
        let good = parse_agenda(&agenda.replace("2026-02-30", "2027-01-08")).unwrap();
        assert_eq!(good[1].1.to_string(), "2027-01-08");
    }
}
