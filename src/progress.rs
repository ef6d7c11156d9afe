//! Progress reporting: the one channel through which stages say how far they are.
//!
//! Stages never print. They call a [`Progress`] that the caller owns: the binary passes a
//! progress bar on a terminal and [`Silent`] otherwise.

/// Receives progress from the stages of a run.
pub trait Progress: Sync {
    /// A stage begins; `total` is its amount of work in bytes, when known.
    fn start(&self, _stage: &'static str, _total: Option<u64>) {}
    /// `amount` more bytes of the current stage are done.
    fn advance(&self, _amount: u64) {}
    /// `count` more articles of the current stage are done.
    fn advance_articles(&self, _count: u64) {}
    /// The current stage is done.
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {}
