//! Integration tests: one binary that runs the real `storyhash` executable on small corpora in
//! temporary directories and parses what it writes back strictly.

mod cli;
mod common;
mod eval;
mod index;
mod params;
mod quality;
mod readme;
mod report_html;
mod report_md;
mod stories;
