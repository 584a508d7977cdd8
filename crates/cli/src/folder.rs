//! Reading a teacher's course folder from disk into the core's in-memory `CourseFolder`.

use std::path::Path;

use anyhow::{anyhow, Context as _};
use cartable_core::pack::CourseFolder;

/// Reads every file under `dir`, recursively, keyed by its `/`-separated path relative to `dir`.
/// Files and folders whose name starts with `.` are skipped (editor and version-control leftovers).
pub fn read(dir: &Path) -> anyhow::Result<CourseFolder> {
    let metadata = std::fs::metadata(dir).with_context(|| format!("cannot open course folder {}", dir.display()))?;
    if !metadata.is_dir() {
        return Err(anyhow!("{} is not a folder: pass the course folder that holds course.toml", dir.display()));
    }
    let mut folder = CourseFolder::new();
    read_into(dir, "", &mut folder)?;
    Ok(folder)
}

fn read_into(dir: &Path, prefix: &str, folder: &mut CourseFolder) -> anyhow::Result<()> {
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
        // Follows symbolic links, so a link to a file counts as that file and a dangling one is an error.
        let is_dir = std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir {
            read_into(&path, &format!("{course_path}/"), folder)?;
        } else {
            let bytes = std::fs::read(&path).map_err(|error| anyhow!("cannot read {}: {error}", path.display()))?;
            folder.insert(course_path, bytes);
        }
    }
    Ok(())
}
