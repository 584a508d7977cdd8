//! The browser edge of cartable.
