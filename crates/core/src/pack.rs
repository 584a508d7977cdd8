//! Packing: a course folder (already read into memory) becomes chunks and an unsigned manifest.
//! Pure: the caller reads the folder, passes the time, signs the result and writes it out.

use std::collections::BTreeMap;
use std::fmt;

use crate::cid::Cid;
use crate::course::{self, CourseToml};
use crate::manifest::{CourseInfo, FileEntry, Homework, Lesson, Manifest, FORMAT};
use crate::markdown::{self, Target};
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

/// The result of packing: the manifest to sign and every distinct chunk, borrowed from the folder.
#[derive(Debug)]
pub struct Packed<'a> {
    /// The manifest, not yet signed.
    pub manifest: Manifest,
    /// Each distinct chunk once, by CID.
    pub chunks: BTreeMap<Cid, &'a [u8]>,
}

/// A mistake in a course folder, located by file and, where it helps, line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    /// Course path of the file at fault.
    pub file: String,
    /// 1-based line, when there is one to point at.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl PackError {
    /// An error about a whole file.
    pub fn new(file: &str, message: impl Into<String>) -> PackError {
        PackError { file: file.to_owned(), line: None, message: message.into() }
    }

    /// An error at byte `offset` of `text`, the content of `file`.
    pub fn at(file: &str, text: &str, offset: usize, message: impl Into<String>) -> PackError {
        let line = text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1);
        PackError { file: file.to_owned(), line: Some(line), message: message.into() }
    }
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for PackError {}

/// Packs `folder` into chunks and a manifest, or says what in the folder must be fixed.
pub fn pack<'a>(folder: &'a CourseFolder, options: &PackOptions) -> Result<Packed<'a>, PackError> {
    if options.chunk_size == 0 || options.chunk_size > MAX_CHUNK_SIZE {
        let message = format!("chunk size {} is out of range (1 to {MAX_CHUNK_SIZE} bytes)", options.chunk_size);
        return Err(PackError::new("course.toml", message));
    }
    let course = course::parse_course(text_of(folder, "course.toml").map_err(|error| {
        let missing =
            "not found: a course folder needs a course.toml with id, title, class, subject, teacher and language";
        if folder.contains_key("course.toml") {
            error
        } else {
            PackError::new("course.toml", missing)
        }
    })?)?;
    let agenda = match folder.contains_key("agenda.toml") {
        true => agenda(folder)?,
        false => Vec::new(),
    };
    let lessons = lessons(folder)?;
    let mut chunks = BTreeMap::new();
    let files = folder
        .iter()
        .filter(|(path, _)| !matches!(path.as_str(), "course.toml" | "agenda.toml"))
        .map(|(path, bytes)| file_entry(path, bytes, options.chunk_size, &mut chunks))
        .collect();
    let manifest = manifest(course, lessons, agenda, files, options);
    Ok(Packed { manifest, chunks })
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

fn lessons(folder: &CourseFolder) -> Result<Vec<Lesson>, PackError> {
    let paths: Vec<&String> =
        folder.keys().filter(|path| path.starts_with(LESSONS_DIR) && path.ends_with(".md")).collect();
    if paths.is_empty() {
        return Err(PackError::new(
            LESSONS_DIR,
            "no lesson found: add Markdown files such as lessons/01-introduction.md",
        ));
    }
    paths.into_iter().map(|path| lesson(folder, path)).collect()
}

fn lesson(folder: &CourseFolder, path: &str) -> Result<Lesson, PackError> {
    let text = text_of(folder, path)?;
    let document = markdown::parse(path, text);
    for reference in &document.references {
        let located = |message: String| PackError { file: path.to_owned(), line: Some(reference.line), message };
        match &reference.target {
            None if reference.is_image => {
                return Err(located(format!("image `{}` must be a file of the course folder", reference.written)));
            }
            None => {
                let message =
                    format!("link `{}` is not allowed: link to a course file or an http(s) address", reference.written);
                return Err(located(message));
            }
            Some(Target::CourseFile(file)) if !folder.contains_key(file) => {
                let message = format!("`{}` points to `{file}`, which is not in the course folder", reference.written);
                return Err(located(message));
            }
            Some(_) => {}
        }
    }
    let title = document
        .title
        .filter(|title| !title.trim().is_empty())
        .ok_or_else(|| PackError::new(path, "has no title: start the lesson with a `# Title` line"))?;
    Ok(Lesson { title, path: path.to_owned() })
}

fn file_entry<'a>(path: &str, bytes: &'a [u8], chunk_size: u32, chunks: &mut BTreeMap<Cid, &'a [u8]>) -> FileEntry {
    let cids = bytes
        .chunks(chunk_size as usize)
        .map(|chunk| {
            let cid = Cid::of(chunk);
            chunks.insert(cid, chunk);
            cid
        })
        .collect();
    FileEntry { path: path.to_owned(), media_type: media_type(path).to_owned(), size: bytes.len() as u64, chunks: cids }
}

#[cfg(test)]
mod tests;
