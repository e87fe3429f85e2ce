//! Profile tests: a shared harness, then valid profiles (`valid`), every located error
//! (`errors`), and robustness and speed (`robust`).

mod errors;
mod robust;
mod run;
mod valid;

use std::path::Path;

use super::{Profile, ProfileError, load_str};

/// Loads `text` as `p.yaml` from a fresh directory holding `files` (path, content), with
/// `--var cli_var=01` (when the text mentions it: a `--var` nothing uses is an error) and a
/// data column `col`. Paths in error messages are made relative to that directory, so
/// expectations do not depend on where it is.
pub(super) fn load_in(files: &[(&str, &str)], text: &str) -> Result<Profile, String> {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    let mentioned = text.contains("cli_var") || files.iter().any(|(_, f)| f.contains("cli_var"));
    let vars = match mentioned {
        true => vec![("cli_var".to_string(), "01".to_string())],
        false => Vec::new(),
    };
    load_str("p.yaml", text, dir.path(), &vars, &["col".to_string()])
        .map_err(|e| relative(dir.path(), &e))
}

pub(super) fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// The error's message with `dir/` removed from every path in it.
pub(super) fn relative(dir: &Path, error: &ProfileError) -> String {
    error
        .to_string()
        .replace(&format!("{}/", dir.display()), "")
}
