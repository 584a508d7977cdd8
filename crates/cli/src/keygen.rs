//! `cartable keygen`: draws a fresh school key and writes its two files. Never overwrites unasked.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use cartable_core::SecretKey;

use crate::keyfile::with_extension;

/// The two files of a key pair.
pub struct KeyFiles {
    /// `<name>.secret`: signs courses; readable by its owner only.
    pub secret: PathBuf,
    /// `<name>.pub`: the public key text, for pages to pin and `verify`/`serve` to check with.
    pub public: PathBuf,
}

impl KeyFiles {
    /// The files for base name `name` (which may include a directory).
    pub fn named(name: &Path) -> KeyFiles {
        KeyFiles { secret: with_extension(name, "secret"), public: with_extension(name, "pub") }
    }
}

/// Runs `cartable keygen NAME [--force]`.
pub fn run(name: &Path, force: bool) -> anyhow::Result<()> {
    let files = KeyFiles::named(name);
    let key = create(&files, force)?;
    println!("secret key: {} (keep it private: it signs your courses)", files.secret.display());
    println!("public key: {}", files.public.display());
    println!("{}", key.public());
    Ok(())
}

/// Draws a new key and writes both files; refuses if either exists, unless `force`.
pub fn create(files: &KeyFiles, force: bool) -> anyhow::Result<SecretKey> {
    for path in [&files.secret, &files.public] {
        if path.exists() && !force {
            bail!("{} already exists: pass --force to replace it (pages pinning the old public key will then refuse new courses)", path.display());
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|error| anyhow!("cannot draw a random key from the system: {error}"))?;
    let key = SecretKey::from_seed(seed);
    seed.fill(0);
    if let Some(parent) = files.secret.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    write_new(&files.secret, key.to_file_text().as_bytes(), true)?;
    write_new(&files.public, format!("{}\n", key.public()).as_bytes(), false)?;
    Ok(key)
}

/// Writes a file that did not exist (removing a replaced one first, so that a fresh mode applies).
fn write_new(path: &Path, bytes: &[u8], private: bool) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).with_context(|| format!("cannot replace {}", path.display()));
        }
        _ => {}
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))
}
