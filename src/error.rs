//! The library's error type.
//!
//! Hard errors stop a run; soft errors (a bad input record) come back as
//! [`Reject`](crate::ingest::Reject) values and are counted instead.

use std::path::PathBuf;

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input or output file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved (`-` for standard input).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An input record is invalid and `skip_invalid` is off.
    #[error("{path}:{line}: {reason}")]
    BadRecord {
        /// The input file (`-` for standard input).
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with the record.
        reason: String,
    },
    /// An input file holds no articles and `skip_invalid` is off.
    #[error("{path}: file holds no articles")]
    EmptyInput {
        /// The input file.
        path: PathBuf,
    },
    /// An index file is damaged, foreign, of another format version, or locked.
    #[error("index {path}: {reason}")]
    Index {
        /// The index directory or file involved.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the error is about the input's content (exit code 2 in the CLI).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::BadRecord { .. } | Error::EmptyInput { .. })
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
