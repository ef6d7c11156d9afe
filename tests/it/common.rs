//! Helpers shared by the integration tests.

#![allow(dead_code, reason = "each test module uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn storyhash() -> Command {
    Command::new(env!("CARGO_BIN_EXE_storyhash"))
}

/// Runs `storyhash` with `args` (and optional stdin), returning its output.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = storyhash();
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the storyhash binary starts");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(bytes).expect("stdin accepts the input");
    }
    child.wait_with_output().expect("storyhash runs to the end")
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory can be made")
}

/// Writes `content` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("the fixture can be written");
    path
}

/// Reads a JSON Lines file strictly: every line must be a JSON object.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} can be read: {e}", path.display()));
    text.lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(serde_json::Value::Object(m)) => m,
            other => panic!("{}: not a JSON object: {l} ({other:?})", path.display()),
        })
        .collect()
}

/// Reads a JSON file strictly.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} can be read: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The repository's own directory (for data/ fixtures).
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
