//! What a script may use: sizes of strings, arrays, Blobs and maps, the depth of nested
//! values, of expressions and of calls, and the number of operations.
//!
//! Without limits a one-line loop (`let s = "x"; loop { s += s }`) grows until the
//! allocator aborts the process, leaving a batch's card open, and a value nested a few
//! thousand levels deep overflows the stack when it is printed or dropped. Every limit is
//! sized well above what a personalisation flow uses (a Blob holds a whole 64 KiB file,
//! a list of keys or applications nests two or three levels), and exceeding one is an
//! ordinary script error: the run fails (exit 1), a batch journals the card `failed`.
//!
//! Rhai checks sizes itself. It has no limit on nesting, so [`check_nesting`] looks at a
//! variable's value each time the script reads it: a value can only grow deeper by being
//! read and wrapped again (`a = [a]`, `a.push(a)`), so every variable stays within
//! [`MAX_NESTING`] levels, and what one expression builds on top of that is bounded by the
//! expression and call depths. This file sets limits; it does not run scripts.

use rhai::{Dynamic, Engine, EvalAltResult, Position};

/// Longest string, in bytes (all strings inside one value together).
pub const MAX_STRING: usize = 4 * 1024 * 1024;
/// Most elements of an array or bytes of a Blob (a value's nested arrays and Blobs
/// together: Rhai counts them as one).
pub const MAX_ARRAY: usize = 1024 * 1024;
/// Most values in one array (a Blob's bytes are not values): Rhai re-counts an array's
/// elements after each change to it, so growing one costs the square of its length.
pub const MAX_VALUES: usize = 16 * 1024;
/// Most entries of an object map (nested maps together); the same square cost as arrays.
pub const MAX_MAP: usize = 4 * 1024;
/// Deepest nesting of arrays and maps in a variable's value.
pub const MAX_NESTING: usize = 32;
/// Deepest chain of function calls.
pub const MAX_CALL_LEVELS: usize = 64;
/// Deepest expression at the top level of a script, and inside a function.
pub const MAX_EXPR_DEPTH: (usize, usize) = (128, 64);
/// Most operations (roughly: expressions evaluated) one script run may take; a runaway
/// loop ends with an error instead of holding the card for ever.
pub const MAX_OPERATIONS: u64 = 100_000_000;

/// What [`check_nesting`] calls the limits it enforces.
const NESTING: &str = "Nesting of arrays and maps";
const VALUES: &str = "Values in an array";
const ENTRIES: &str = "Size of object map";

/// The message for an error that is a limit being reached, naming the limit; `None` for
/// any other error.
pub(super) fn describe(error: &EvalAltResult) -> Option<String> {
    let what = match error {
        EvalAltResult::ErrorDataTooLarge(what, _) => what.as_str(),
        EvalAltResult::ErrorTooManyOperations(_) => {
            return Some(format!(
                "the script ran more than {MAX_OPERATIONS} operations (the script limit; a loop that never ends?)"
            ));
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            return Some(format!(
                "function calls nested deeper than {MAX_CALL_LEVELS} (the script limit)"
            ));
        }
        _ => return None,
    };
    Some(match what {
        "Length of string" => format!("a string longer than {MAX_STRING} bytes (the script limit)"),
        "Size of object map" => {
            format!("an object map with more than {MAX_MAP} entries (the script limit)")
        }
        VALUES => format!("an array with more than {MAX_VALUES} values (the script limit)"),
        NESTING => {
            format!("arrays and maps nested more than {MAX_NESTING} levels deep (the script limit)")
        }
        // Rhai says "Size of array/BLOB" or "Size of BLOB"; both share one limit.
        _ => format!(
            "an array or Blob with more than {MAX_ARRAY} elements or bytes (the script limit)"
        ),
    })
}

/// Sets the limits that hold at compile time as well as at run time.
pub(super) fn apply(engine: &mut Engine) {
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH.0, MAX_EXPR_DEPTH.1);
    engine.set_max_string_size(MAX_STRING);
    engine.set_max_array_size(MAX_ARRAY);
    engine.set_max_map_size(MAX_MAP);
    engine.set_max_operations(MAX_OPERATIONS);
}

/// Adds the nesting check on every variable read (see the module documentation).
pub(super) fn check_reads(engine: &mut Engine) {
    // `on_var` is marked volatile by Rhai, not deprecated; it is the one hook that sees
    // values as scripts use them.
    #[allow(deprecated)]
    engine.on_var(|name, _index, context| {
        if let Some(value) = context.scope().get(name) {
            check_nesting(value)?;
        }
        Ok(None)
    });
}

/// The error a variable's value gets when it breaks a limit that Rhai itself does not
/// check everywhere: nesting deeper than [`MAX_NESTING`], an array of more than
/// [`MAX_VALUES`] values, and the size limits, which `m[key] = value` and `a[i] = value`
/// bypass in Rhai (a map of 4096 one-MiB Blobs would otherwise be 4 GiB).
pub(super) fn check_nesting(value: &Dynamic) -> Result<(), Box<EvalAltResult>> {
    let mut sizes = Sizes::default();
    match breach(value, MAX_NESTING, &mut sizes) {
        Some(what) => {
            Err(EvalAltResult::ErrorDataTooLarge(what.to_string(), Position::NONE).into())
        }
        None => Ok(()),
    }
}

/// What a value holds, all levels together (as Rhai counts them).
#[derive(Default)]
struct Sizes {
    /// Array elements and Blob bytes.
    values: usize,
    /// Map entries.
    entries: usize,
    /// Bytes of strings and map keys.
    text: usize,
}

impl Sizes {
    fn over(&self) -> Option<&'static str> {
        if self.values > MAX_ARRAY {
            Some("Size of array/BLOB")
        } else if self.entries > MAX_MAP {
            Some(ENTRIES)
        } else if self.text > MAX_STRING {
            Some("Length of string")
        } else {
            None
        }
    }
}

/// Which limit `value` breaks, adding what it holds to `sizes`. The recursion stops one
/// level beyond `limit`, so it is itself at most `limit + 1` calls deep whatever the value.
fn breach(value: &Dynamic, limit: usize, sizes: &mut Sizes) -> Option<&'static str> {
    // The cheap tag tests come first: this runs on every read of a variable.
    if value.is_array() {
        let array = value.read_lock::<rhai::Array>()?;
        if limit == 0 {
            return Some(NESTING);
        }
        if array.len() > MAX_VALUES {
            return Some(VALUES);
        }
        sizes.values += array.len();
        if let Some(what) = sizes.over() {
            return Some(what);
        }
        for v in array.iter() {
            if let Some(what) = breach(v, limit - 1, sizes) {
                return Some(what);
            }
        }
        None
    } else if value.is_map() {
        let map = value.read_lock::<rhai::Map>()?;
        if limit == 0 {
            return Some(NESTING);
        }
        sizes.entries += map.len();
        for (key, v) in map.iter() {
            sizes.text += key.len();
            if let Some(what) = sizes.over().or_else(|| breach(v, limit - 1, sizes)) {
                return Some(what);
            }
        }
        sizes.over()
    } else if value.is_blob() {
        sizes.values += value.read_lock::<rhai::Blob>().map_or(0, |b| b.len());
        sizes.over()
    } else if value.is_string() {
        sizes.text += value
            .read_lock::<rhai::ImmutableString>()
            .map_or(0, |s| s.len());
        sizes.over()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_exceeds(value: &Dynamic, limit: usize) -> bool {
        breach(value, limit, &mut Sizes::default()) == Some(NESTING)
    }

    fn nested(levels: usize) -> Dynamic {
        let mut value = Dynamic::from_array(vec![]);
        for _ in 1..levels {
            value = Dynamic::from_array(vec![Dynamic::from(1_i64), value]);
        }
        value
    }

    #[test]
    fn depth_counts_arrays_and_maps() {
        assert!(!depth_exceeds(&Dynamic::from(1_i64), 0));
        assert!(!depth_exceeds(&Dynamic::from_blob(vec![1; 100]), 0));
        assert!(depth_exceeds(&nested(1), 0));
        assert!(!depth_exceeds(&nested(1), 1));
        assert!(!depth_exceeds(&nested(MAX_NESTING), MAX_NESTING));
        assert!(depth_exceeds(&nested(MAX_NESTING + 1), MAX_NESTING));
        let mut map = rhai::Map::new();
        map.insert("k".into(), nested(2));
        let map = Dynamic::from_map(map);
        assert!(!depth_exceeds(&map, 3));
        assert!(depth_exceeds(&map, 2));
        assert!(check_nesting(&nested(MAX_NESTING + 1)).is_err());
    }

    #[test]
    fn long_arrays_are_refused_but_long_blobs_are_not() {
        let check = |value: &Dynamic| breach(value, MAX_NESTING, &mut Sizes::default());
        let long = Dynamic::from_array(vec![Dynamic::UNIT; MAX_VALUES + 1]);
        assert_eq!(check(&long), Some(VALUES));
        let fits = Dynamic::from_array(vec![Dynamic::UNIT; MAX_VALUES]);
        assert_eq!(check(&fits), None);
        let blob = Dynamic::from_blob(vec![0; MAX_ARRAY / 2 + 1]);
        assert_eq!(check(&blob), None);
        let two = Dynamic::from_array(vec![blob.clone(), blob.clone()]);
        assert_eq!(check(&two), Some("Size of array/BLOB"));
        let mut map = rhai::Map::new();
        map.insert("a".into(), blob.clone());
        map.insert("b".into(), blob);
        assert_eq!(check(&Dynamic::from_map(map)), Some("Size of array/BLOB"));
        let text = Dynamic::from("x".repeat(MAX_STRING / 2 + 1));
        let twice = Dynamic::from_array(vec![text.clone(), text]);
        assert_eq!(check(&twice), Some("Length of string"));
    }

    #[test]
    fn a_very_deep_value_is_measured_without_recursing_through_it() {
        // Built and taken apart by hand: dropping it whole would itself recurse.
        let deep = nested(100_000);
        assert!(depth_exceeds(&deep, MAX_NESTING));
        let mut value = deep;
        loop {
            let next = match value.write_lock::<rhai::Array>() {
                Some(mut array) => array.pop(),
                None => None,
            };
            match next {
                Some(next) => value = next,
                None => break,
            }
        }
    }
}
