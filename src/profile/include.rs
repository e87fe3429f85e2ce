//! One `include:` entry: resolve it against the including file, refuse cycles and runaway
//! expansion, read and parse the included profile, check it fits the top profile, collect it.
//!
//! Paths in messages are normalised lexically (`a/./b/../c` -> `a/c`); files are read
//! through the path as joined, so symbolic links resolve the way the file system says.
//! Cycles are found by canonical path, so `a.yaml` and `./a.yaml` are the same file.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::error::{Problem, ProfileError};
use super::model::{self, Located};
use super::validate::{Collected, Source, collect, header, yaml};

/// More included-file visits than this is a runaway (a diamond of includes doubling).
const MAX_FILES: usize = 1_000;

/// Reads, checks and collects one `include:` entry of file `index`.
pub(super) fn include(
    c: &mut Collected,
    index: usize,
    entry: &Located<String>,
) -> Result<(), ProfileError> {
    let including = &c.files[index];
    let joined = including.dir.join(&entry.value);
    let path = normalize(&joined);
    let fail = |problem| including.error_at(entry, problem);
    let identity = fs::canonicalize(&joined).map_err(|source| {
        fail(Problem::Include {
            path: path.clone(),
            source,
        })
    })?;
    if let Some(start) = c
        .stack
        .iter()
        .position(|(id, _)| id.as_ref() == Some(&identity))
    {
        let mut chain: Vec<String> = c.stack[start..]
            .iter()
            .map(|(_, p)| format!("`{}`", p.display()))
            .collect();
        chain.push(format!("`{}`", path.display()));
        return Err(fail(Problem::IncludeCycle {
            chain: chain.join(" -> "),
        }));
    }
    if c.files.len() >= MAX_FILES {
        return Err(fail(Problem::TooLarge {
            what: "included files",
            limit: MAX_FILES,
        }));
    }
    let text = crate::input::read_text(&joined, crate::input::Kind::Profile).map_err(|source| {
        fail(Problem::Include {
            path: path.clone(),
            source,
        })
    })?;
    c.hash.write_text(&text);
    let source = Source {
        dir: path.parent().unwrap_or(Path::new("")).to_path_buf(),
        path: path.clone(),
        text,
    };
    let document = model::parse(&source.text).map_err(|e| yaml(&source, e))?;
    let (card, irreversible, _) = header(&source, &document)?;
    if !c.card.accepts(card) {
        return Err(fail(Problem::CardMismatch {
            included: card.to_string(),
            including: c.card.to_string(),
        }));
    }
    if let Some(kind) = irreversible.iter().find(|k| !c.irreversible.contains(k)) {
        return Err(fail(Problem::IrreversibleNotAllowed {
            kind: kind.to_string(),
        }));
    }
    if let Some(at) = &document.identify {
        return Err(source.error_at(
            at,
            Problem::Identify(
                "an included profile cannot say how cards are identified; move `identify:` to the profile the batch runs".to_string(),
            ),
        ));
    }
    c.files.push(source);
    c.stack.push((Some(identity), path));
    collect(c, c.files.len() - 1, document)?;
    c.stack.pop();
    Ok(())
}

/// Removes `.` and folds `name/..` without touching the file system, so messages show
/// `profiles/common/x.yaml` rather than `profiles/sub/../common/./x.yaml`.
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
