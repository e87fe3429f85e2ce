//! The batch's data file: a CSV with a header line, one row per card.
//!
//! The header names the columns; each becomes a `${name}` for the profile. Everything that
//! can be wrong with the file is found before the first card, and reported as
//! `file:line:column: message`: an empty file, a header without rows, a duplicate or
//! invalid column name, a row with more or fewer fields than the header, a value that a
//! step sends as hex but is not hex. Nothing is guessed: a ragged row is not padded.
//!
//! This file reads and checks the data; which row a card gets is the ledger's business.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::apdu::hex;
use crate::profile::BUILT_INS;
use crate::script::is_identifier;

/// The rows of a data file, checked.
#[derive(Debug)]
pub struct DataSet {
    /// The file, as the user named it.
    pub path: PathBuf,
    /// Column names, in file order.
    pub columns: Vec<String>,
    /// Rows in file order, compactly: a million rows take little more than their text.
    rows: Rows,
    /// SHA-256 of the file's bytes, hex: a journal refuses data that changed under it.
    pub hash: String,
}

/// Every value of every row in one text, in file order, with where each value ends and the
/// file line each row starts on.
#[derive(Debug, Default)]
struct Rows {
    text: String,
    ends: Vec<usize>,
    lines: Vec<u64>,
    width: usize,
}

impl Rows {
    fn new(width: usize) -> Rows {
        Rows {
            width,
            ..Rows::default()
        }
    }

    fn push<'a>(&mut self, line: u64, values: impl IntoIterator<Item = &'a str>) {
        for value in values {
            self.text.push_str(value);
            self.ends.push(self.text.len());
        }
        self.lines.push(line);
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Value `column` of row `index` (both from 0).
    fn value(&self, index: usize, column: usize) -> &str {
        let cell = index * self.width + column;
        let start = if cell == 0 { 0 } else { self.ends[cell - 1] };
        self.text.get(start..self.ends[cell]).unwrap_or_default()
    }
}

/// Why a data file cannot be used, located in the file.
#[derive(Debug)]
pub struct DataError {
    /// The data file.
    pub path: PathBuf,
    /// 1-based line, when the problem has one.
    pub line: Option<u64>,
    /// 1-based column (field number), when the problem has one.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DataError {}

impl DataSet {
    /// Reads and checks the CSV file at `path`.
    pub fn load(path: &Path) -> Result<DataSet, DataError> {
        let error = |line: Option<u64>, column: Option<usize>, message: String| DataError {
            path: path.to_path_buf(),
            line,
            column,
            message,
        };
        let bytes = crate::input::read(path, crate::input::Kind::Data)
            .map_err(|e| error(None, None, format!("cannot read the data file: {e}")))?;
        let hash = hex::format_compact(&Sha256::digest(&bytes)).to_lowercase();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(bytes.as_slice());
        let header = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
        if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
            let message = "the data file is empty: expected a header line naming the columns, then one row per card";
            return Err(error(None, None, message.to_string()));
        }
        let mut columns: Vec<String> = Vec::with_capacity(header.len());
        for (i, name) in header.iter().enumerate() {
            let at = |message: String| error(Some(1), Some(i + 1), message);
            if !is_identifier(name) {
                let hint = if name.contains([';', '\t']) {
                    "; data files are separated by commas"
                } else {
                    ""
                };
                return Err(at(format!(
                    "column name `{name}` is not an identifier (letters, digits, `_`){hint}"
                )));
            }
            if BUILT_INS.contains(&name) {
                return Err(at(format!("column name `{name}` is a built-in name")));
            }
            if let Some(first) = columns.iter().position(|c| c == name) {
                return Err(at(format!(
                    "duplicate column `{name}` (also column {})",
                    first + 1
                )));
            }
            columns.push(name.to_string());
        }
        let mut rows = Rows::new(columns.len());
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(csv_error(path, &e)),
            }
            let line = record.position().map_or(0, |p| p.line());
            rows.push(line, record.iter());
        }
        if rows.is_empty() {
            let message = "the data file has a header but no rows";
            return Err(error(Some(1), None, message.to_string()));
        }
        Ok(DataSet {
            path: path.to_path_buf(),
            columns,
            rows,
            hash,
        })
    }

    /// A data set of rows kept elsewhere (a lot in the ledger database), for the checks
    /// made before the first card; `path` names it in messages, `rows` are (row number,
    /// values) with as many values as `columns`.
    pub fn from_rows(
        path: PathBuf,
        columns: Vec<String>,
        rows: Vec<(u64, Vec<String>)>,
        hash: String,
    ) -> DataSet {
        let mut compact = Rows::new(columns.len());
        for (line, values) in &rows {
            let mut values: Vec<&str> = values.iter().map(String::as_str).collect();
            values.resize(columns.len(), "");
            compact.push(*line, values);
        }
        DataSet {
            path,
            columns,
            rows: compact,
            hash,
        }
    }

    /// How many rows there are.
    pub fn len(&self) -> u64 {
        self.rows.len() as u64
    }

    /// Whether there are no rows (never true of a loaded data set).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `row` (1-based) as (column, value) pairs.
    pub fn row(&self, row: u64) -> Vec<(String, String)> {
        let index = usize::try_from(row.saturating_sub(1)).unwrap_or(usize::MAX);
        if index >= self.rows.len() {
            return Vec::new();
        }
        self.columns
            .iter()
            .enumerate()
            .map(|(c, name)| (name.clone(), self.rows.value(index, c).to_string()))
            .collect()
    }

    /// Checks that every value of the named columns is hex (they are sent in APDUs).
    pub fn check_hex<'a>(
        &self,
        columns: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), DataError> {
        for name in columns {
            let Some(index) = self.columns.iter().position(|c| c == name) else {
                continue;
            };
            for (row, line) in self.rows.lines.iter().enumerate() {
                let value = self.rows.value(row, index);
                if let Err(e) = hex::parse(value) {
                    return Err(DataError {
                        path: self.path.clone(),
                        line: Some(*line),
                        column: Some(index + 1),
                        message: format!(
                            "column `{name}` is sent in an APDU, but `{value}` is not hex ({e})"
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> DataError {
    let (line, message) = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => (
            pos.as_ref().map(csv::Position::line),
            format!("this row has {len} field(s), the header has {expected_len}"),
        ),
        csv::ErrorKind::Utf8 { pos, err } => (
            pos.as_ref().map(csv::Position::line),
            format!("not UTF-8 text: {err}"),
        ),
        _ => (e.position().map(csv::Position::line), e.to_string()),
    };
    DataError {
        path: path.to_path_buf(),
        line,
        column: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<DataSet, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        DataSet::load(&path).map_err(|e| {
            e.to_string()
                .replace(&format!("{}", path.display()), "d.csv")
        })
    }

    #[test]
    fn rows_are_column_value_pairs() {
        let data = load("serial,name\n0001, Ann \n0002,Bob\n").unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(
            data.row(1),
            [
                ("serial".to_string(), "0001".to_string()),
                ("name".to_string(), "Ann".to_string())
            ]
        );
        assert!(data.row(3).is_empty());
        assert_eq!(data.hash.len(), 64);
    }

    #[test]
    fn bad_files_are_located_errors() {
        let cases = [
            (
                "",
                "d.csv: the data file is empty: expected a header line naming the columns, then one row per card",
            ),
            (
                "serial\n",
                "d.csv:1: the data file has a header but no rows",
            ),
            (
                "a,b,a\n1,2,3\n",
                "d.csv:1:3: duplicate column `a` (also column 1)",
            ),
            (
                "a,b c\n1,2\n",
                "d.csv:1:2: column name `b c` is not an identifier (letters, digits, `_`)",
            ),
            (
                "a,row\n1,2\n",
                "d.csv:1:2: column name `row` is a built-in name",
            ),
            (
                "a,b\n1,2\n3\n",
                "d.csv:3: this row has 1 field(s), the header has 2",
            ),
            (
                "a,b\n1,2\n3,4,5\n",
                "d.csv:3: this row has 3 field(s), the header has 2",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(load(text).unwrap_err(), expected, "{text:?}");
        }
    }

    #[test]
    fn unreadable_and_foreign_files_say_why() {
        let err = load("serial;name\n01;a\n").unwrap_err();
        assert_eq!(
            err,
            "d.csv:1:1: column name `serial;name` is not an identifier (letters, digits, `_`); data files are separated by commas"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, b"serial\n\xFF\n").unwrap();
        let err = DataSet::load(&path).unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.starts_with("not UTF-8 text: "), "{err}");
        let err = DataSet::load(&dir.path().join("missing.csv")).unwrap_err();
        assert!(
            err.message.starts_with("cannot read the data file: "),
            "{err}"
        );
    }

    #[test]
    fn columns_sent_in_apdus_must_be_hex() {
        let data = load("serial,name\n0001,Ann\n00G2,Bob\n").unwrap();
        let err = data.check_hex(["serial"]).unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(1)));
        assert_eq!(
            err.message,
            "column `serial` is sent in an APDU, but `00G2` is not hex (column 3: `G` is not a hex digit)"
        );
    }
}
