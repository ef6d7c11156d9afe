//! The README's quoted output, checked against the binary: the Quick start's summary line of the
//! main job on the sample, and the `storyhash params` block. A change that moves either fails
//! here until the README says what the binary does.

use crate::common::{repo_dir, run, tempdir};

fn readme() -> String {
    std::fs::read_to_string(repo_dir().join("README.md")).expect("README.md")
}

/// Collapses runs of whitespace (the README wraps its lines) into one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_quick_start_summary_is_what_the_sample_gives() {
    let readme = readme();
    // The quoted line: the first backticked span after "summary on standard error" that
    // says how many articles were accepted, up to its "…".
    let from = readme
        .find("summary on standard error")
        .expect("the Quick start quotes the summary");
    let quoted = readme[from..]
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|span| span.contains("articles accepted"))
        .map(one_line)
        .expect("a quoted summary line");
    let quoted = quoted.trim_end_matches('…').trim_end();
    assert!(quoted.contains("near-duplicate clusters"), "{quoted}");

    let dir = tempdir();
    let out = dir.path().join("out");
    let sample = repo_dir().join("data/sample.jsonl");
    let got = run(
        &[
            "run",
            sample.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(got.status.success(), "{got:?}");
    let stderr = one_line(&String::from_utf8_lossy(&got.stderr));
    assert!(
        stderr.contains(&format!("storyhash: {quoted}")),
        "README quotes {quoted:?}, the run printed {stderr:?}"
    );
}

#[test]
fn the_params_block_is_what_params_prints() {
    let readme = readme();
    let command = "$ storyhash params --threshold 0.8 --num-perm 128\n";
    let from = readme.find(command).expect("the README shows params") + command.len();
    let end = from + readme[from..].find("```").expect("the block ends");
    let shown = &readme[from..end];
    let got = run(&["params", "--threshold", "0.8", "--num-perm", "128"], None);
    assert!(got.status.success(), "{got:?}");
    assert_eq!(String::from_utf8_lossy(&got.stdout), shown);
}
