//! Scenario placeholder.
