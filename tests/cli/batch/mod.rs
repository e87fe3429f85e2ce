//! `batch`, `run PROFILE.yaml` and `check PROFILE.yaml`: profiles through the binary, whole
//! simulated batches, the journal's promises under kill -9 and Ctrl-C, bad data and journals.
//!
//! Each test works in its own temporary directory (the default journal lands in the working
//! directory). [`check_journal`] checks the journal's invariants after every run: no row
//! used by two cards, no card issued twice, no `end` without its `begin`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::child::Running;
use super::{Ran, bin, ran};

mod audit;
mod crashes;
mod disk;
mod lengths;
mod profiles;
mod record;
mod runs;
mod versions;

/// A profile for the ISO 7816 demo card: writes the row's `serial` into EF 0010 and reads it
/// back; a script step spins `${spin}` times so that a card takes a while when wanted. Cards
/// are told apart by their CPLC IC serial number: card n of a stream is `10000000` + n - 1.
pub(crate) const PROFILE: &str = r#"name: t
card: iso7816
identify: { apdu: 80 CA 9F 7F 00, bytes: 15-18 }
vars: { spin: "0" }
steps:
  - name: select EF 0010
    apdu: 00 A4 00 0C 02 00 10
  - name: verify PIN
    apdu: 00 20 00 01 04 31 32 33 34
  - name: write serial
    apdu: 00 D6 00 00 04 ${serial}
  - name: read back
    apdu: 00 B0 00 00 04
    response: XX XX XX XX
    capture: back
  - name: spin
    script: |
      let n = parse_int(spin);
      let i = 0;
      while i < n { i += 1; }
      if back != serial { throw `read back ${back}`; }
"#;

pub(crate) struct Dir {
    pub(crate) dir: tempfile::TempDir,
}

impl Dir {
    pub(crate) fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A fresh directory holding [`PROFILE`] as `t.yaml` (so its journal is
    /// `t.journal.jsonl`) and [`Dir::data`] with `rows` rows; returns it with the profile's
    /// path and the data file's path, the setup most batch tests start from.
    pub(crate) fn with_profile_and_data(rows: usize) -> (Dir, String, String) {
        let dir = Dir::new();
        let profile = dir.write("t.yaml", PROFILE);
        let data = dir.data(rows);
        (dir, profile, data)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// A data file with `rows` serials `00000001`, `00000002`, ….
    pub(crate) fn data(&self, rows: usize) -> String {
        let mut text = String::from("serial\n");
        for i in 1..=rows {
            text.push_str(&format!("{i:08X}\n"));
        }
        self.write("data.csv", &text)
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = bin();
        command.current_dir(self.dir.path()).args(args);
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Ran {
        ran(self.command(args).output().unwrap())
    }

    /// Starts `apdu-run ARGS` here, its output discarded; killed if the test fails.
    pub(crate) fn spawn(&self, args: &[&str]) -> Running {
        Running::spawn(
            self.command(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
    }

    pub(crate) fn journal(&self) -> Vec<Value> {
        read_lines(&self.path("t.journal.jsonl"))
    }
}

/// The complete JSON lines of a file (a cut-off last line is left out).
pub(crate) fn read_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What a journal says, after checking its invariants.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Identity of the card issued ok with each row.
    pub(crate) ok_rows: HashMap<u64, String>,
    pub(crate) failed: usize,
    /// Cards begun and not finished.
    pub(crate) open: usize,
    pub(crate) ends: Vec<Value>,
}

#[track_caller]
pub(crate) fn check_journal(lines: &[Value]) -> Journal {
    // A batch killed before its journal's first line was complete leaves no record at all.
    let Some(first) = lines.first() else {
        return Journal::default();
    };
    assert_eq!(first["event"], "header", "{first:?}");
    // Rows are numbered within their data lot (`lot` records switch lots).
    let mut lots: Vec<Value> = vec![first["data_hash"].clone()];
    let mut lot = 0;
    let mut owner: HashMap<(usize, u64), String> = HashMap::new();
    let mut state: HashMap<String, &str> = HashMap::new();
    let mut journal = Journal::default();
    for line in &lines[1..] {
        match line["event"].as_str().unwrap() {
            "profile" => continue,
            "lot" => {
                lot = lots
                    .iter()
                    .position(|h| *h == line["data_hash"])
                    .unwrap_or_else(|| {
                        lots.push(line["data_hash"].clone());
                        lots.len() - 1
                    });
                continue;
            }
            _ => {}
        }
        let identity = line["identity"].as_str().unwrap().to_string();
        let row = line["row"].as_u64();
        match line["event"].as_str().unwrap() {
            "begin" => {
                if let Some(row) = row {
                    let first = owner.entry((lot, row)).or_insert_with(|| identity.clone());
                    assert_eq!(*first, identity, "row {row} used by two cards");
                }
                let before = state.insert(identity.clone(), "open");
                assert!(
                    matches!(before, None | Some("open")),
                    "{identity} begins after it was finished"
                );
            }
            "end" => {
                let verdict = line["verdict"].as_str().unwrap();
                assert_eq!(state.get(&identity), Some(&"open"), "end without begin");
                if verdict == "ok" {
                    journal.ok_rows.insert(row.unwrap_or(0), identity.clone());
                }
                journal.failed += usize::from(verdict == "failed");
                let after = if verdict == "interrupted" {
                    "open"
                } else {
                    "done"
                };
                state.insert(identity, after);
                journal.ends.push(line.clone());
            }
            other => panic!("unexpected event {other}"),
        }
    }
    journal.open = state.values().filter(|s| **s == "open").count();
    journal
}
