//! Maps a position inside a scalar's value (a hex column, a script line and column) to the
//! position in the profile file.
//!
//! Exact for the forms people write: a plain or quoted scalar on one line (`apdu: FF CA 0G`,
//! `"FF CA"`) and a literal block (`script: |`), where value line `n` is file line
//! `start + n - 1` at the block's indentation. For anything else (folded blocks, escapes,
//! multi-line flow scalars) the value's own start is the best honest answer, and that is
//! what is returned.

use super::model::Located;

/// The file position of `(line, column)` (1-based) inside `value`, the text of `at`.
pub fn inside<T>(
    source: &str,
    at: &Located<T>,
    value: &str,
    line: usize,
    column: usize,
) -> (usize, usize) {
    let fallback = (at.line, at.column);
    let Some(span) = at.text else {
        return fallback;
    };
    let Some(raw) = source.get(span.offset..span.offset + span.len) else {
        return fallback;
    };
    let first_line_shift = if raw == value {
        0
    } else if is_quoted(raw) && raw.get(1..raw.len() - 1) == Some(value) {
        1
    } else if is_literal_block(raw, value, span.column - 1) {
        0
    } else {
        return fallback;
    };
    let line = line.max(1);
    let column = column.max(1);
    if line == 1 {
        (span.line, span.column + first_line_shift + column - 1)
    } else {
        (span.line + line - 1, span.column + column - 1)
    }
}

fn is_quoted(raw: &str) -> bool {
    raw.len() >= 2
        && ((raw.starts_with('"') && raw.ends_with('"'))
            || (raw.starts_with('\'') && raw.ends_with('\'')))
}

/// Whether `raw` is `value` laid out as a literal block: every line after the first indented
/// by `indent` spaces (blank lines may have fewer).
fn is_literal_block(raw: &str, value: &str, indent: usize) -> bool {
    let mut rebuilt = String::with_capacity(raw.len());
    for (i, line) in raw.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 {
            rebuilt.push('\n');
            let spaces = line.len() - line.trim_start_matches(' ').len();
            rebuilt.push_str(&line[spaces.min(indent)..]);
        } else {
            rebuilt.push_str(line);
        }
    }
    rebuilt.trim_end_matches('\n') == value.trim_end_matches('\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::model::TextSpan;

    fn located(line: usize, column: usize, offset: usize, len: usize) -> Located<()> {
        Located {
            value: (),
            line,
            column,
            text: Some(TextSpan {
                line,
                column,
                offset,
                len,
            }),
        }
    }

    #[test]
    fn maps_plain_quoted_and_block_scalars() {
        let source = "a: FF 0G\n";
        assert_eq!(inside(source, &located(1, 4, 3, 5), "FF 0G", 1, 5), (1, 8));
        let source = "a: \"FF 0G\"\n";
        assert_eq!(inside(source, &located(1, 4, 3, 7), "FF 0G", 1, 5), (1, 9));
        let source = "a: |\n  let x = 1;\n    foo(\n";
        let value = "let x = 1;\n  foo(\n";
        let at = located(2, 3, 7, 20);
        assert_eq!(inside(source, &at, value, 2, 5), (3, 7));
        assert_eq!(inside(source, &at, value, 1, 1), (2, 3));
    }

    #[test]
    fn falls_back_to_the_value_start_when_text_was_folded() {
        let source = "a: >\n  one\n  two\n";
        assert_eq!(
            inside(source, &located(2, 3, 7, 10), "one two\n", 1, 5),
            (2, 3)
        );
    }
}
