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

/// The current unix time in milliseconds.
#[allow(clippy::disallowed_methods)] // the one place the tool reads the clock
pub fn unix_now_ms() -> anyhow::Result<i64> {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is set before 1970: set the date and try again")?;
    i64::try_from(elapsed.as_millis()).context("the system clock is too far in the future")
}

/// Time elapsed since a start, read from the monotonic clock (for fault windows and reports).
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    /// A stopwatch started now.
    #[allow(clippy::disallowed_methods)] // the one place the tool reads the monotonic clock
    pub fn start() -> Stopwatch {
        Stopwatch(std::time::Instant::now())
    }

    /// The time elapsed since [`Stopwatch::start`].
    #[allow(clippy::disallowed_methods)]
    pub fn elapsed(&self) -> std::time::Duration {
        std::time::Instant::now().saturating_duration_since(self.0)
    }
}
