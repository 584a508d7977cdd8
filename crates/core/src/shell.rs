//! The app shell as content: the files a page needs to run cartable, each cut into content-addressed
//! chunks like a course's files, under one build id. `cartable shell` writes it at build time into
//! `pkg/shell.json` and at the end of the worker's module (`pkg/cartable_sw.js`); `cartable mirror` exports its chunks
//! beside a course's, so any mirror serves the app too. Pure: no I/O, the caller hands in the bytes.
//!
//! The worker's script, which by the platform's rule always comes from the page's own origin, carries
//! this list: it is the trust root of every shell byte, whichever source sends it (checked against its
//! CID before it is stored or served).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cid::Cid;
use crate::manifest::FileEntry;
use crate::pack::MAX_CHUNK_SIZE;

/// The shell format this code writes and reads (2 added `parts`).
pub const FORMAT: u32 = 2;
/// Shell files are cut at the largest chunk size peers accept: one request per file for all but the
/// largest, and the fewest requests against a refusing origin.
pub const CHUNK_SIZE: u32 = MAX_CHUNK_SIZE;

/// One build of the app shell.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    /// Always [`FORMAT`].
    pub format: u32,
    /// The build's id: 16 hexadecimal digits that change whenever any byte of the app changes.
    pub build: String,
    /// Size of every chunk but the last of each file.
    pub chunk_size: u32,
    /// Pages that boot the app (`index.html`, `embed.html`): kept by the worker as the origin serves
    /// them (a school fills in `index.html`'s configuration), so they are named, not pinned by CID.
    pub pages: Vec<String>,
    /// The files pages load, served by the worker from its snapshot once verified. Paths are relative
    /// to the app's folder (the worker's scope), such as `style.css` or `pkg/cartable_bg.wasm`.
    pub files: Vec<FileEntry>,
    /// The app's parts loaded when first needed (the exercises, "Mon travail", the classmates' swarm):
    /// pinned like `files`, but not fetched by the worker's install, which a first visit waits for. The
    /// worker keeps each the first time a page asks for it, checked against its CID.
    pub parts: Vec<FileEntry>,
    /// The worker's own wasm, which the worker script loads itself before any Rust runs.
    pub worker: FileEntry,
}

/// Why a shell list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    /// Not the JSON of a shell.
    #[error("the app shell list is malformed: {0}")]
    Malformed(String),
    /// A format this code does not read.
    #[error("the app shell list has format {0}, this version of cartable reads format {FORMAT}")]
    UnsupportedFormat(u32),
    /// Inconsistent: a path outside the app's folder or given twice, chunks that do not add up.
    #[error("the app shell list is inconsistent: {0}")]
    Inconsistent(String),
}

impl Shell {
    /// The shell of `files` and `parts` (path and bytes), the worker's wasm `worker` and the boot
    /// `pages`, cut into chunks, and those chunks by CID. The build id hashes the list and every byte of
    /// `also` (the page templates and the worker's scripts, which are not in the list but change the app).
    pub fn pack<'a>(
        files: &'a [(String, Vec<u8>)],
        parts: &'a [(String, Vec<u8>)],
        worker: &'a (String, Vec<u8>),
        pages: &[String],
        also: &[&[u8]],
    ) -> (Shell, BTreeMap<Cid, &'a [u8]>) {
        let mut chunks = BTreeMap::new();
        let mut entry = |(path, bytes): &'a (String, Vec<u8>)| {
            crate::pack::file_entry(path, bytes, CHUNK_SIZE, |cid, chunk| {
                chunks.entry(cid).or_insert(chunk);
            })
        };
        let files: Vec<FileEntry> = files.iter().map(&mut entry).collect();
        let parts: Vec<FileEntry> = parts.iter().map(&mut entry).collect();
        let worker = entry(worker);
        let mut shell = Shell {
            format: FORMAT,
            build: String::new(),
            chunk_size: CHUNK_SIZE,
            pages: pages.to_vec(),
            files,
            parts,
            worker,
        };
        shell.build = build_id(&shell.to_json(), also);
        (shell, chunks)
    }

    /// Reads and checks a shell list.
    pub fn from_json(json: &[u8]) -> Result<Shell, ShellError> {
        let shell: Shell = serde_json::from_slice(json).map_err(|error| ShellError::Malformed(error.to_string()))?;
        if shell.format != FORMAT {
            return Err(ShellError::UnsupportedFormat(shell.format));
        }
        shell.check().map_err(ShellError::Inconsistent)?;
        Ok(shell)
    }

    /// Like [`Shell::from_json`] without saying why a list is refused: the worker's bundle then carries no
    /// code to word JSON errors (floating-point formatting alone is 15 KB of wasm).
    pub fn read(json: &[u8]) -> Option<Shell> {
        let shell: Shell = serde_json::from_slice(json).ok()?;
        (shell.format == FORMAT && shell.check().is_ok()).then_some(shell)
    }

    /// The list as JSON, the form `pkg/shell.json` and the worker's script carry.
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings, numbers and lists always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The file served at `path` (relative to the app's folder), if the shell has one.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|file| file.path == path)
    }

    /// The part served at `path` (relative to the app's folder), if the shell has one.
    pub fn part(&self, path: &str) -> Option<&FileEntry> {
        self.parts.iter().find(|part| part.path == path)
    }

    /// The boot page `path` (relative to the app's folder) names, if it names one: `""`, the folder
    /// itself, names `index.html`.
    pub fn page<'a>(&self, path: &'a str) -> Option<&'a str> {
        let path = if path.is_empty() { "index.html" } else { path };
        self.pages.iter().any(|page| page == path).then_some(path)
    }

    /// Every chunk of the served files, each once, with its length, in order: what the worker's install
    /// fetches and keeps (its own wasm is the worker script's business, the parts come when asked for).
    pub fn chunks(&self) -> Vec<(Cid, u64)> {
        distinct_chunks(&self.files, self.chunk_size)
    }

    /// Every chunk of the served files and of the parts at `used` paths, each once, with its length, in
    /// order: what the worker's install fetches when the pupil used those parts with an earlier build.
    pub fn chunks_with_parts(&self, used: &[String]) -> Vec<(Cid, u64)> {
        let parts = self.parts.iter().filter(|part| used.contains(&part.path));
        distinct_chunks(self.files.iter().chain(parts), self.chunk_size)
    }

    /// Every chunk of the served files and of the parts, each once, with its length: what the worker may
    /// keep for this build.
    pub fn kept_chunks(&self) -> Vec<(Cid, u64)> {
        distinct_chunks(self.files.iter().chain(&self.parts), self.chunk_size)
    }

    /// Every chunk of the served files, the parts and the worker's wasm, each once, with its length: what
    /// a mirror holds.
    pub fn all_chunks(&self) -> Vec<(Cid, u64)> {
        distinct_chunks(self.entries(), self.chunk_size)
    }

    /// The served files, the parts, then the worker's wasm.
    pub fn entries(&self) -> impl Iterator<Item = &FileEntry> {
        self.files.iter().chain(&self.parts).chain(std::iter::once(&self.worker))
    }

    /// Total bytes of the served files and the worker's wasm.
    pub fn bytes(&self) -> u64 {
        self.entries().map(|file| file.size).sum()
    }

    fn check(&self) -> Result<(), String> {
        if self.chunk_size == 0 || self.chunk_size > MAX_CHUNK_SIZE {
            return Err(format!("chunk size {} is out of range", self.chunk_size));
        }
        if self.build.is_empty() || !self.build.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-') {
            return Err(format!("build id `{}` is not letters, digits and dashes", self.build));
        }
        let mut paths = BTreeSet::new();
        let named = self.pages.iter().chain(self.entries().map(|file| &file.path));
        for path in named {
            if !relative_path(path) {
                return Err(format!("`{path}` is not a path inside the app's folder"));
            }
            if !paths.insert(path) {
                return Err(format!("`{path}` is listed twice"));
            }
        }
        for file in self.entries() {
            let expected = file.size.div_ceil(u64::from(self.chunk_size));
            if file.chunks.len() as u64 != expected {
                return Err(format!("{} has {} chunks for {} bytes", file.path, file.chunks.len(), file.size));
            }
        }
        Ok(())
    }
}

/// Each chunk of `files` once, with its length, in order.
fn distinct_chunks<'a>(files: impl IntoIterator<Item = &'a FileEntry>, chunk_size: u32) -> Vec<(Cid, u64)> {
    let mut seen = BTreeSet::new();
    let all = files.into_iter().flat_map(|file| {
        file.chunks.iter().enumerate().map(move |(index, cid)| (*cid, file.chunk_len(index, chunk_size)))
    });
    all.filter(|(cid, _)| seen.insert(*cid)).collect()
}

/// A path inside the app's folder: segments that are not empty, not `.` or `..`, no backslash.
fn relative_path(path: &str) -> bool {
    !path.is_empty() && path.split('/').all(|segment| !matches!(segment, "" | "." | "..") && !segment.contains('\\'))
}

/// The first 16 hexadecimal digits of the sha2-256 of `list` followed by each of `also`, each preceded by
/// its length so that moving bytes from one to the next changes the id.
fn build_id(list: &[u8], also: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in std::iter::once(list).chain(also.iter().copied()) {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().iter().take(8).map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests;
