//! `report.html`: one self-contained page for people.

use std::path::Path;

use crate::error::Result;
use crate::pipeline::{DedupConfig, DedupRun};

use super::QuotedTexts;

/// The documents whose texts the page quotes, sorted (they are read on the report's pass over
/// the inputs).
pub fn texts_wanted(_run: &DedupRun) -> Vec<u32> {
    Vec::new()
}

/// Writes `out_dir/report.html`. (Not written yet: a stub that writes nothing.)
pub fn write(
    _run: &DedupRun,
    _config: &DedupConfig,
    _texts: &QuotedTexts,
    _out_dir: &Path,
) -> Result<()> {
    Ok(())
}
