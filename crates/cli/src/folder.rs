//! Reading a teacher's course folder from disk into the core's in-memory `CourseFolder`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use cartable_core::pack::CourseFolder;

/// The extension of a school's signing key (`cartable keygen`): never published, wherever it lies.
const SECRET_EXTENSION: &str = ".secret";

/// Reads every file under `dir`, recursively, keyed by its `/`-separated path relative to `dir`.
/// Files and folders whose name starts with `.` are skipped (editor and version-control leftovers).
/// A symbolic link counts as what it points to when that lies inside the folder; one that leads out
/// of it is refused (it would publish whatever it names), and so is any signing key (`*.secret`).
pub fn read(dir: &Path) -> anyhow::Result<CourseFolder> {
    let metadata = std::fs::metadata(dir).with_context(|| format!("cannot open course folder {}", dir.display()))?;
    if !metadata.is_dir() {
        return Err(anyhow!("{} is not a folder: pass the course folder that holds course.toml", dir.display()));
    }
    let root = dir.canonicalize().with_context(|| format!("cannot open course folder {}", dir.display()))?;
    let mut reader = Reader { root: root.clone(), folder: CourseFolder::new(), visited: BTreeSet::from([root]) };
    reader.read_into(dir, "")?;
    Ok(reader.folder)
}

struct Reader {
    /// The course folder, symbolic links resolved.
    root: PathBuf,
    folder: CourseFolder,
    /// Folders read so far, resolved: a link back to one of them is not followed twice.
    visited: BTreeSet<PathBuf>,
}

impl Reader {
    fn read_into(&mut self, dir: &Path, prefix: &str) -> anyhow::Result<()> {
        let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read folder {}", dir.display()))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name
                .to_str()
                .ok_or_else(|| anyhow!("{}: the file name is not valid Unicode: rename it", path.display()))?;
            if name.starts_with('.') {
                continue;
            }
            let course_path = format!("{prefix}{name}");
            let target = self.inside(&path, &course_path)?;
            if target.is_dir() {
                if self.visited.insert(target) {
                    self.read_into(&path, &format!("{course_path}/"))?;
                }
                continue;
            }
            if name.ends_with(SECRET_EXTENSION) || target.to_string_lossy().ends_with(SECRET_EXTENSION) {
                return Err(anyhow!(
                    "{course_path}: a signing key must never be published: move it out of the course folder"
                ));
            }
            let bytes = std::fs::read(&path).map_err(|error| anyhow!("cannot read {}: {error}", path.display()))?;
            self.folder.insert(course_path, bytes);
        }
        Ok(())
    }

    /// Where `path` leads, symbolic links resolved, if that is inside the course folder.
    fn inside(&self, path: &Path, course_path: &str) -> anyhow::Result<PathBuf> {
        let target = path.canonicalize().map_err(|error| anyhow!("cannot read {}: {error}", path.display()))?;
        match target.starts_with(&self.root) {
            true => Ok(target),
            false => Err(anyhow!(
                "{course_path} is a link to {}, outside the course folder: copy the file into the folder instead",
                target.display()
            )),
        }
    }
}
