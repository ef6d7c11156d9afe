//! `report.md`: a short Markdown summary of a run for nightly job logs and chat.

use std::path::Path;

use crate::error::Result;
use crate::pipeline::{DedupConfig, DedupRun};

/// Writes `out_dir/report.md`. (Not written yet: a stub that writes nothing.)
pub fn write(_run: &DedupRun, _config: &DedupConfig, _out_dir: &Path) -> Result<()> {
    Ok(())
}
