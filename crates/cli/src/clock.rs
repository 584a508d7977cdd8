//! The system clock, read in one place: the core takes time as a parameter and never reads it.

use anyhow::Context as _;

/// The current unix time in whole seconds.
#[allow(clippy::disallowed_methods)] // the one place the tool reads the clock
pub fn unix_now() -> anyhow::Result<i64> {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is set before 1970: set the date and try again")?;
    i64::try_from(elapsed.as_secs()).context("the system clock is too far in the future")
}
