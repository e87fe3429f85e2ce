//! Build script: gives the binary its commit for `apdu-run --version`.
//!
//! Sets `APDU_RUN_COMMIT` to `git rev-parse --short HEAD`, with `-dirty` when tracked files
//! differ from that commit. Outside a git checkout (a source tarball, `cargo install` from the
//! registry), or without git, it is `unknown`: the build never fails for want of git. A
//! packager who knows the commit can set `APDU_RUN_COMMIT` in the environment instead. It
//! does nothing else.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=APDU_RUN_COMMIT");
    let commit = match std::env::var("APDU_RUN_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_owned(),
        _ => from_git().unwrap_or_else(|| "unknown".to_owned()),
    };
    println!("cargo:rustc-env=APDU_RUN_COMMIT={commit}");
}

/// `abc1234` or `abc1234-dirty`; `None` when git or the repository is not there.
fn from_git() -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let dir = Path::new(&dir);
    let hash = git(dir, &["rev-parse", "--short", "HEAD"])?;
    // Rebuild when HEAD moves (a commit, a checkout) or the index changes; the sources are
    // watched so that an edit marks the build dirty. Worktrees keep HEAD apart from refs.
    let mut watched = Vec::new();
    if let Some(head) = git(dir, &["rev-parse", "--git-path", "HEAD"]) {
        watched.push(dir.join(head));
    }
    if let Some(index) = git(dir, &["rev-parse", "--git-path", "index"]) {
        watched.push(dir.join(index));
    }
    if let Some(common) = git(dir, &["rev-parse", "--git-common-dir"]) {
        let common = dir.join(common);
        watched.push(common.join("packed-refs"));
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            watched.push(common.join(branch));
        }
    }
    // A path that does not exist would make cargo rerun this script on every build.
    for path in watched.iter().filter(|path| path.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    for watched in ["src", "build.rs", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={watched}");
    }
    // Tracked files that differ from HEAD (staged or not) make a build dirty; untracked
    // files do not. `git status` refreshes stale file times that `diff-index` would misread.
    let dirty = git(dir, &["status", "--porcelain", "--untracked-files=no"]).is_some();
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// The trimmed stdout of `git ARGS` in `dir`, when it succeeds with some output.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .current_dir(dir)
        // `git status` would otherwise rewrite the index, which this script watches.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}
