//! A full disk under a running batch: the journal stays whole and a restart goes on.
//!
//! Runs on a small tmpfs where this machine lets the tests mount one (root, as in CI);
//! elsewhere the test prints why it is skipped and passes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Dir, check_journal, read_lines};

/// A tmpfs mounted on a fresh directory, unmounted when dropped (also when a test fails).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            println!(
                "skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN), so there is no full disk to test on"
            );
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Every line of the file, each a whole record ending with its newline.
fn whole_records(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'), "the last record is cut off: {text:?}");
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {} is not a whole record ({e}): {line}", i + 1))
        })
        .collect()
}

#[test]
fn a_two_reader_batch_that_fills_the_disk_keeps_its_journal_whole_and_restarts() {
    let Some(disk) = SmallDisk::mount("64k") else {
        return;
    };
    // 400 cards need far more than 64 KiB of journal (about 400 bytes a card).
    let (dir, profile, data) = Dir::with_profile_and_data(400);
    let journal = disk.path("t.journal.jsonl");
    let journal_arg = journal.to_str().unwrap();
    let args = [
        "batch",
        "--sim",
        "iso7816",
        "--sim-readers",
        "2",
        "--data",
        &data,
        "--journal",
        journal_arg,
        &profile,
    ];
    let r = dir.run(&args);
    assert_eq!(r.code, 3, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("cannot write the `")
            && r.stderr
                .contains("cut back to its last complete record and is intact"),
        "{}",
        r.stderr
    );
    let before = whole_records(&journal);
    let first = check_journal(&before);
    assert!(
        !first.ok_rows.is_empty() && first.ok_rows.len() < 400,
        "{} cards issued",
        first.ok_rows.len()
    );
    let issued: HashSet<String> = first.ok_rows.values().cloned().collect();

    // With space again the batch goes on from the journal and finishes every row, and no
    // card the journal had finished begins again.
    disk.resize("4m");
    let r = dir.run(&args);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let after = whole_records(&journal);
    assert_eq!(after[..before.len()], before[..]);
    for line in &after[before.len()..] {
        if line["event"] == "begin" {
            let identity = line["identity"].as_str().unwrap();
            assert!(
                !issued.contains(identity),
                "{identity} was issued before the disk filled and begins again"
            );
        }
    }
    let journal = check_journal(&read_lines(&journal));
    assert_eq!(journal.ok_rows.len(), 400);
    assert_eq!((journal.open, journal.failed), (0, 0));
}
