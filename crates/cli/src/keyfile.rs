//! Reading key files written by `cartable keygen`. Writing them is `keygen.rs`'s job.

use std::path::Path;

use anyhow::{anyhow, Context as _};
use cartable_core::{PublicKey, SecretKey};

/// Reads a `.secret` file; the error names the file and says how to get a right one.
pub fn read_secret(path: &Path) -> anyhow::Result<SecretKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read secret key {}", path.display()))?;
    SecretKey::from_file_text(&text).map_err(|error| {
        let hint = match text.parse::<PublicKey>() {
            Ok(_) => "this is a public key: pass the matching .secret file",
            Err(_) => "create one with `cartable keygen`",
        };
        anyhow!("{}: {error} ({hint})", path.display())
    })
}

/// Reads a `.pub` file (`ed25519:<base64>`); the error names the file and says what to pass instead.
pub fn read_public(path: &Path) -> anyhow::Result<PublicKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read public key {}", path.display()))?;
    text.parse::<PublicKey>()
        .map_err(|error| anyhow!("{}: {error} (pass the .pub file written by `cartable keygen`)", path.display()))
}

/// `base` with `extension` appended to its file name, so that `keys/school` gives `keys/school.pub`
/// even when the name already holds a dot.
pub fn with_extension(base: &Path, extension: &str) -> std::path::PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    name.into()
}
