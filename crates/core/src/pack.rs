//! Packing: a course folder (already read into memory) becomes chunks and an unsigned manifest.
//! Pure: the caller reads the folder, passes the time, signs the result and writes it out.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::cid::Cid;
use crate::course::{self, CourseToml};
use crate::exercise::{self, EXERCISES_SUFFIX};
use crate::manifest::{CourseInfo, FileEntry, Homework, Lesson, Manifest, FORMAT};
use crate::markdown::{self, Reference, Target};
use crate::media::media_type;

/// The chunk size used unless the teacher asks for another.
pub const DEFAULT_CHUNK_SIZE: u32 = 256 * 1024;
/// The largest chunk size: a chunk must fit one request, one store write and one peer message train.
pub const MAX_CHUNK_SIZE: u32 = 1024 * 1024;
/// Where lessons live in a course folder.
pub const LESSONS_DIR: &str = "lessons/";

/// A course folder: course paths (`/`-separated, relative) and their bytes.
pub type CourseFolder = BTreeMap<String, Vec<u8>>;

/// What the packer needs besides the folder.
#[derive(Clone, Debug)]
pub struct PackOptions {
    /// Chunk size in bytes, 1 to [`MAX_CHUNK_SIZE`].
    pub chunk_size: u32,
    /// Version of this publication; must grow from one publication to the next.
    pub version: u64,
    /// Current unix time in seconds.
    pub now: i64,
}

/// The result of packing: the manifest to sign and every distinct chunk (borrowed from the folder, or
/// owned for the lessons' published trees).
#[derive(Debug)]
pub struct Packed<'a> {
    /// The manifest, not yet signed.
    pub manifest: Manifest,
    /// Each distinct chunk once, by CID.
    pub chunks: BTreeMap<Cid, Cow<'a, [u8]>>,
}

pub use crate::located::PackError;

/// Packs `folder` into chunks and a manifest, or says what in the folder must be fixed. Besides the
/// folder's files, the manifest lists each lesson's published tree (`<lesson>.json`).
pub fn pack<'a>(folder: &'a CourseFolder, options: &PackOptions) -> Result<Packed<'a>, PackError> {
    if options.chunk_size == 0 || options.chunk_size > MAX_CHUNK_SIZE {
        let message = format!("chunk size {} is out of range (1 to {MAX_CHUNK_SIZE} bytes)", options.chunk_size);
        return Err(PackError::new("course.toml", message));
    }
    let course = course::parse_course(course_toml(folder)?)?;
    let agenda = match folder.contains_key("agenda.toml") {
        true => agenda(folder)?,
        false => Vec::new(),
    };
    let (lessons, bodies) = lessons(folder)?;
    let mut chunks = BTreeMap::new();
    let mut files = Vec::new();
    for (path, bytes) in folder.iter().filter(|(path, _)| !matches!(path.as_str(), "course.toml" | "agenda.toml")) {
        files.push(file_entry(path, bytes, options.chunk_size, |cid, chunk| {
            chunks.entry(cid).or_insert(Cow::Borrowed(chunk));
        }));
    }
    for (path, bytes) in &bodies {
        files.push(file_entry(path, bytes, options.chunk_size, |cid, chunk| {
            chunks.entry(cid).or_insert_with(|| Cow::Owned(chunk.to_vec()));
        }));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = manifest(course, lessons, agenda, files, options);
    Ok(Packed { manifest, chunks })
}

fn course_toml(folder: &CourseFolder) -> Result<&str, PackError> {
    if !folder.contains_key("course.toml") {
        let missing =
            "not found: a course folder needs a course.toml with id, title, class, subject, teacher and language";
        return Err(PackError::new("course.toml", missing));
    }
    text_of(folder, "course.toml")
}

fn manifest(
    course: CourseToml,
    lessons: Vec<Lesson>,
    agenda: Vec<Homework>,
    files: Vec<FileEntry>,
    options: &PackOptions,
) -> Manifest {
    let valid_seconds = i64::from(*course.valid_days.get_ref()) * 86_400;
    Manifest {
        format: FORMAT,
        course: CourseInfo {
            id: course.id.into_inner(),
            title: course.title.into_inner(),
            class: course.class,
            subject: course.subject,
            teacher: course.teacher,
            language: course.language,
        },
        version: options.version,
        created_at: options.now,
        expires_at: options.now.saturating_add(valid_seconds),
        chunk_size: options.chunk_size,
        lessons,
        agenda,
        files,
        mirrors: course.mirrors.into_iter().map(|m| m.into_inner()).collect(),
        trackers: course.trackers.into_iter().map(|t| t.into_inner()).collect(),
        peers: course.peers.policy(),
    }
}

fn text_of<'a>(folder: &'a CourseFolder, path: &str) -> Result<&'a str, PackError> {
    let bytes = folder.get(path).ok_or_else(|| PackError::new(path, "not found"))?;
    std::str::from_utf8(bytes).map_err(|error| {
        let text = String::from_utf8_lossy(&bytes[..error.valid_up_to()]).into_owned();
        PackError::at(path, &text, text.len(), "is not UTF-8 text: save it as UTF-8")
    })
}

fn agenda(folder: &CourseFolder) -> Result<Vec<Homework>, PackError> {
    let text = text_of(folder, "agenda.toml")?;
    let mut agenda = Vec::new();
    for (homework, due) in course::parse_agenda(text)? {
        for attachment in &homework.attachments {
            if !folder.contains_key(attachment.get_ref()) {
                let message = format!("attachment `{}` is not in the course folder", attachment.get_ref());
                return Err(PackError::at("agenda.toml", text, attachment.span().start, message));
            }
        }
        let attachments = homework.attachments.into_iter().map(|a| a.into_inner()).collect();
        agenda.push(Homework { subject: homework.subject, task: homework.task, due, attachments });
    }
    Ok(agenda)
}

/// Files the packer writes itself (the lessons' published trees and exercises): path and bytes.
type Generated = Vec<(String, Vec<u8>)>;

/// The lessons, in file-name order, and the published tree (and exercise) of each.
fn lessons(folder: &CourseFolder) -> Result<(Vec<Lesson>, Generated), PackError> {
    let paths: Vec<&String> =
        folder.keys().filter(|path| path.starts_with(LESSONS_DIR) && path.ends_with(".md")).collect();
    if paths.is_empty() {
        let message = "no lesson found: add Markdown files such as lessons/01-introduction.md";
        return Err(PackError::new(LESSONS_DIR, message));
    }
    let (mut lessons, mut bodies) = (Vec::new(), Vec::new());
    check_exercise_files(folder)?;
    for source in paths {
        let (mut lesson, body) = lesson(folder, source)?;
        bodies.push((lesson.body.clone(), body));
        if let Some((path, json)) = lesson_exercise(folder, source)? {
            lesson.exercises = Some(path.clone());
            bodies.push((path, json));
        }
        lessons.push(lesson);
    }
    Ok((lessons, bodies))
}

fn lesson(folder: &CourseFolder, source: &str) -> Result<(Lesson, Vec<u8>), PackError> {
    let text = text_of(folder, source)?;
    let document = markdown::parse(source, text);
    for reference in &document.references {
        check_reference(folder, source, reference)?;
    }
    let title = document
        .title
        .filter(|title| !title.trim().is_empty())
        .ok_or_else(|| PackError::new(source, "has no title: start the lesson with a `# Title` line"))?;
    let body = format!("{source}.json");
    if folder.contains_key(&body) {
        return Err(PackError::new(
            &body,
            format!("this name is kept for the published form of {source}: rename the file"),
        ));
    }
    let lesson = Lesson { title, source: source.to_owned(), body, exercises: None };
    Ok((lesson, markdown::to_json(&document.nodes)))
}

/// The lesson's exercise, if the teacher wrote `lessons/<name>.exercises.toml`: its published path and
/// JSON.
fn lesson_exercise(folder: &CourseFolder, source: &str) -> Result<Option<(String, Vec<u8>)>, PackError> {
    let stem = source.strip_suffix(".md").unwrap_or(source);
    let file = format!("{stem}{EXERCISES_SUFFIX}");
    if !folder.contains_key(&file) {
        return Ok(None);
    }
    let exercise = exercise::parse_exercise(&file, text_of(folder, &file)?)?;
    let published = format!("{stem}.exercises.json");
    if folder.contains_key(&published) {
        let message = format!("this name is kept for the published form of {file}: rename the file");
        return Err(PackError::new(&published, message));
    }
    Ok(Some((published, exercise.to_json())))
}

/// Refuses an exercises file without its lesson: it would never be shown.
fn check_exercise_files(folder: &CourseFolder) -> Result<(), PackError> {
    for file in folder.keys().filter(|path| path.ends_with(EXERCISES_SUFFIX)) {
        let lesson = format!("{}.md", file.trim_end_matches(EXERCISES_SUFFIX));
        if !file.starts_with(LESSONS_DIR) || !folder.contains_key(&lesson) {
            let message = format!("no lesson `{lesson}` for these exercises: name the file after its lesson");
            return Err(PackError::new(file, message));
        }
    }
    Ok(())
}

fn check_reference(folder: &CourseFolder, source: &str, reference: &Reference) -> Result<(), PackError> {
    let located = |message: String| PackError { file: source.to_owned(), line: Some(reference.line), message };
    match &reference.target {
        None if reference.is_image => {
            Err(located(format!("image `{}` must be a file of the course folder", reference.written)))
        }
        None => Err(located(format!(
            "link `{}` is not allowed: link to a course file or an http(s) address",
            reference.written
        ))),
        Some(Target::CourseFile(file)) if !folder.contains_key(file) => {
            Err(located(format!("`{}` points to `{file}`, which is not in the course folder", reference.written)))
        }
        Some(Target::External(url)) if into_the_app(url) => Err(located(format!(
            "link `{}` points into the app's own files: link to the course file by its path in the course folder",
            reference.written
        ))),
        Some(_) => Ok(()),
    }
}

/// Where the app's own files are on any origin that serves it: the worker's copies of stored course
/// files, the built app, the origin's statistics, then the worker's script, which ends a path. A lesson
/// links to a course file by its course path; an absolute address of the app's own files could open
/// them as pages of its origin.
const APP_PATHS: [&str; 4] = ["/cartable-files/", "/pkg/cartable", "/pkg/ipfs/", "/_cartable/"];
const WORKER_SCRIPT: &str = "/sw.js";

/// Whether the `http(s)` address `url` names the app's own files ([`APP_PATHS`]), on whatever host.
fn into_the_app(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else { return false };
    let path = rest.find('/').map_or("", |start| &rest[start..]);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = crate::path::percent_decode(path).unwrap_or_else(|| path.to_owned()).to_ascii_lowercase();
    APP_PATHS.iter().any(|app| path.contains(app)) || path.ends_with(WORKER_SCRIPT)
}

/// The manifest entry of one file; `keep` receives each chunk with its CID.
pub(crate) fn file_entry<'b>(
    path: &str,
    bytes: &'b [u8],
    chunk_size: u32,
    mut keep: impl FnMut(Cid, &'b [u8]),
) -> FileEntry {
    let cids = bytes
        .chunks(chunk_size as usize)
        .map(|chunk| {
            let cid = Cid::of(chunk);
            keep(cid, chunk);
            cid
        })
        .collect();
    FileEntry { path: path.to_owned(), media_type: media_type(path).to_owned(), size: bytes.len() as u64, chunks: cids }
}

#[cfg(test)]
mod tests;
