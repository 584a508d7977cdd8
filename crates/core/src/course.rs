//! The teacher's side of the course format: `course.toml` and `agenda.toml`, read with line numbers so
//! that every mistake can be pointed at. Pure: text in, values or a located error out.

use serde::Deserialize;
use toml::Spanned;

use crate::date::Date;
use crate::pack::PackError;

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
    let course: CourseToml = toml::from_str(text).map_err(|error| toml_error(FILE, text, &error))?;
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
    Ok(course)
}

/// Reads `agenda.toml`, checking every due date.
pub fn parse_agenda(text: &str) -> Result<Vec<(HomeworkToml, Date)>, PackError> {
    const FILE: &str = "agenda.toml";
    let agenda: AgendaToml = toml::from_str(text).map_err(|error| toml_error(FILE, text, &error))?;
    agenda
        .homework
        .into_iter()
        .map(|homework| match homework.due.get_ref().parse::<Date>() {
            Ok(date) => Ok((homework, date)),
            Err(error) => Err(PackError::at(FILE, text, homework.due.span().start, error.to_string())),
        })
        .collect()
}

fn toml_error(file: &str, text: &str, error: &toml::de::Error) -> PackError {
    let message = error.message().to_owned();
    match error.span() {
        // A missing field is reported on the whole table: its line would point nowhere useful.
        Some(span) if !message.starts_with("missing field") => PackError::at(file, text, span.start, message),
        _ => PackError::new(file, message),
    }
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
