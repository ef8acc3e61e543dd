//! How a test's output is compared with its expected output, and where the
//! two first differ.
//!
//! Four modes: `exact` (byte for byte), `trim` (the default, as Judge0
//! does: trailing whitespace of each line, a carriage return included, and
//! trailing empty lines are ignored), `tokens` (the whitespace-separated
//! tokens must be equal) and `float` (tokens, where two numbers are equal
//! within a tolerance, absolute or relative to the expected number; other
//! tokens must be equal). A difference names its line and column (1-based,
//! in characters) or its token (0-based), with an excerpt of each side;
//! `None` on a side means that output ended there.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Characters of each side shown around a difference.
const EXCERPT_CHARS: usize = 80;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompareMode {
    Exact,
    #[default]
    Trim,
    Tokens,
    Float,
}

/// How `float`'s tolerance is applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToleranceType {
    /// |got - expected| <= tolerance.
    #[default]
    Absolute,
    /// |got - expected| <= tolerance * |expected|.
    Relative,
}

/// A comparison's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub mode: CompareMode,
    pub tolerance: f64,
    pub tolerance_type: ToleranceType,
}

/// The default tolerance of `float`.
pub const DEFAULT_TOLERANCE: f64 = 1e-6;

impl Default for Comparison {
    fn default() -> Comparison {
        Comparison {
            mode: CompareMode::Trim,
            tolerance: DEFAULT_TOLERANCE,
            tolerance_type: ToleranceType::Absolute,
        }
    }
}

/// Where an output first differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Difference {
    /// Line (1-based), for `exact` and `trim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Column in characters (1-based), for `exact` and `trim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Token index (0-based), for `tokens` and `float`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<usize>,
    /// The expected line or token there; null: the expected output ended.
    pub expected: Option<String>,
    /// The program's line or token there; null: its output ended.
    pub got: Option<String>,
}

/// `None` when `got` matches `expected` under `comparison`; else where
/// they first differ.
pub fn compare(expected: &str, got: &str, comparison: &Comparison) -> Option<Difference> {
    match comparison.mode {
        CompareMode::Exact => compare_exact(expected, got),
        CompareMode::Trim => compare_lines(&trimmed_lines(expected), &trimmed_lines(got)),
        CompareMode::Tokens => compare_tokens(expected, got, |want, have| want == have),
        CompareMode::Float => compare_tokens(expected, got, |want, have| {
            want == have || numbers_match(want, have, comparison)
        }),
    }
}

fn compare_exact(expected: &str, got: &str) -> Option<Difference> {
    if expected == got {
        return None;
    }
    // Lines split on '\n' alone: a '\r' is a character of its line here.
    let want: Vec<&str> = expected.split('\n').collect();
    let have: Vec<&str> = got.split('\n').collect();
    compare_lines(&want, &have).or_else(|| {
        // Equal lines but unequal texts cannot be; say where anyway.
        Some(Difference {
            line: Some(1),
            column: Some(1),
            token: None,
            expected: Some(excerpt(expected)),
            got: Some(excerpt(got)),
        })
    })
}

/// The lines without their trailing whitespace, trailing empty lines gone.
fn trimmed_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').map(str::trim_end).collect();
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    lines
}

fn compare_lines(want: &[&str], have: &[&str]) -> Option<Difference> {
    let lines = want.len().max(have.len());
    (0..lines).find_map(|index| {
        let (expected, got) = (want.get(index), have.get(index));
        if expected == got {
            return None;
        }
        let column = match (expected, got) {
            (Some(expected), Some(got)) => first_differing_char(expected, got),
            _ => 1,
        };
        Some(Difference {
            line: Some(index + 1),
            column: Some(column),
            token: None,
            expected: expected.map(|line| excerpt_at(line, column)),
            got: got.map(|line| excerpt_at(line, column)),
        })
    })
}

/// The 1-based position of the first character where `a` and `b` differ
/// (one past the shorter where one is a prefix of the other).
fn first_differing_char(a: &str, b: &str) -> usize {
    let mut position = 1;
    let mut left = a.chars();
    let mut right = b.chars();
    loop {
        match (left.next(), right.next()) {
            (Some(x), Some(y)) if x == y => position += 1,
            _ => return position,
        }
    }
}

fn compare_tokens(
    expected: &str,
    got: &str,
    equal: impl Fn(&str, &str) -> bool,
) -> Option<Difference> {
    let mut want = expected.split_whitespace();
    let mut have = got.split_whitespace();
    let mut index = 0;
    loop {
        match (want.next(), have.next()) {
            (None, None) => return None,
            (Some(expected), Some(got)) if equal(expected, got) => index += 1,
            (expected, got) => {
                return Some(Difference {
                    line: None,
                    column: None,
                    token: Some(index),
                    expected: expected.map(excerpt),
                    got: got.map(excerpt),
                });
            }
        }
    }
}

/// Whether two tokens are numbers equal within the tolerance.
fn numbers_match(want: &str, have: &str, comparison: &Comparison) -> bool {
    let (Ok(expected), Ok(got)) = (want.parse::<f64>(), have.parse::<f64>()) else {
        return false;
    };
    if !expected.is_finite() || !got.is_finite() {
        // Infinities equal only themselves; NaN nothing.
        return expected == got;
    }
    let error = (got - expected).abs();
    let allowed = match comparison.tolerance_type {
        ToleranceType::Absolute => comparison.tolerance,
        ToleranceType::Relative => comparison.tolerance * expected.abs(),
    };
    // A hair of slack for the rounding of the subtraction itself.
    error <= allowed + f64::EPSILON * expected.abs().max(got.abs())
}

fn excerpt(text: &str) -> String {
    text.chars().take(EXCERPT_CHARS).collect()
}

/// Up to [`EXCERPT_CHARS`] characters of `line` around `column`.
fn excerpt_at(line: &str, column: usize) -> String {
    let skip = column.saturating_sub(1 + EXCERPT_CHARS / 4);
    line.chars().skip(skip).take(EXCERPT_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(mode: CompareMode) -> Comparison {
        Comparison {
            mode,
            ..Comparison::default()
        }
    }

    fn float(tolerance: f64, tolerance_type: ToleranceType) -> Comparison {
        Comparison {
            mode: CompareMode::Float,
            tolerance,
            tolerance_type,
        }
    }

    #[test]
    fn exact_is_byte_for_byte() {
        let exact = mode(CompareMode::Exact);
        assert_eq!(compare("1 2\n", "1 2\n", &exact), None);
        let difference = compare("1 2\n", "1 2 \n", &exact).expect("differs");
        assert_eq!((difference.line, difference.column), (Some(1), Some(4)));
        assert_eq!(difference.expected.as_deref(), Some("1 2"));
        assert_eq!(difference.got.as_deref(), Some("1 2 "));
        // CRLF is not LF.
        let difference = compare("a\nb\n", "a\r\nb\r\n", &exact).expect("differs");
        assert_eq!((difference.line, difference.column), (Some(1), Some(2)));
        // A missing trailing newline: the last line is there on one side only.
        let difference = compare("a\n", "a", &exact).expect("differs");
        assert_eq!(difference.line, Some(2));
        assert_eq!(
            (difference.expected.as_deref(), difference.got),
            (Some(""), None)
        );
    }

    #[test]
    fn trim_ignores_trailing_whitespace_and_empty_lines() {
        let trim = mode(CompareMode::Trim);
        assert_eq!(compare("1 2\n3\n", "1 2   \n3\t\n\n\n", &trim), None);
        assert_eq!(compare("a\nb\n", "a\r\nb\r\n", &trim), None, "CRLF");
        assert_eq!(compare("a", "a\n", &trim), None, "final newline");
        assert_eq!(compare("", "\n\n", &trim), None, "nothing");
        // Leading whitespace and inner spaces count.
        let difference = compare("a b\n", " a b\n", &trim).expect("differs");
        assert_eq!((difference.line, difference.column), (Some(1), Some(1)));
        let difference = compare("x\ny 1\nz\n", "x\ny  1\nz\n", &trim).expect("differs");
        assert_eq!((difference.line, difference.column), (Some(2), Some(3)));
        // An empty line inside counts.
        let difference = compare("a\n\nb\n", "a\nb\n", &trim).expect("differs");
        assert_eq!(difference.line, Some(2));
        // Missing lines: the program's output ended.
        let difference = compare("1\n2\n", "1\n", &trim).expect("differs");
        assert_eq!(difference.line, Some(2));
        assert_eq!(
            (difference.expected.as_deref(), difference.got),
            (Some("2"), None)
        );
    }

    #[test]
    fn tokens_ignore_all_whitespace() {
        let tokens = mode(CompareMode::Tokens);
        assert_eq!(compare("1 2 3\n", "1\n2\t3", &tokens), None);
        assert_eq!(compare("a b", "\r\n a  b \r\n", &tokens), None);
        let difference = compare("1 2 3", "1 2 4", &tokens).expect("differs");
        assert_eq!(difference.token, Some(2));
        assert_eq!(
            (difference.expected.as_deref(), difference.got.as_deref()),
            (Some("3"), Some("4"))
        );
        let difference = compare("1 2", "1 2 3", &tokens).expect("differs");
        assert_eq!((difference.token, difference.expected), (Some(2), None));
        // Numbers are text here.
        assert!(compare("1.0", "1", &tokens).is_some());
    }

    #[test]
    fn float_compares_numbers_within_the_tolerance() {
        let absolute = float(1e-9, ToleranceType::Absolute);
        assert_eq!(compare("0.3", "0.30000000000000004", &absolute), None);
        assert_eq!(compare("1.0000000001 x", "1 x", &absolute), None);
        assert_eq!(compare("1e-9", "0", &absolute), None);
        let difference = compare("1 2.5", "1 2.500001", &absolute).expect("differs");
        assert_eq!(difference.token, Some(1));
        assert!(compare("1.000000002", "1", &absolute).is_some());
        // Words must match exactly; a word is not a number.
        assert!(compare("yes 1", "YES 1", &absolute).is_some());
        assert!(compare("1", "one", &absolute).is_some());
        assert_eq!(compare("inf", "inf", &absolute), None);
        assert!(compare("nan", "NaN", &absolute).is_some());

        let relative = float(1e-9, ToleranceType::Relative);
        assert_eq!(compare("1000000000", "1000000000.5", &relative), None);
        assert!(compare("1000000000", "1000000002", &relative).is_some());
        assert!(
            compare("0", "1e-12", &relative).is_some(),
            "relative to 0 is exact"
        );
        assert_eq!(compare("1e-12", "1.0000000001e-12", &relative), None);
        assert!(compare("1e-12", "2e-12", &float(1e-9, ToleranceType::Relative)).is_some());
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = "x".repeat(1000);
        let other = format!("{}y", "x".repeat(999));
        let difference = compare(&long, &other, &mode(CompareMode::Trim)).expect("differs");
        assert_eq!(difference.column, Some(1000));
        assert!(
            difference
                .expected
                .as_deref()
                .is_some_and(|text| text.chars().count() <= EXCERPT_CHARS)
        );
        assert!(
            difference
                .got
                .as_deref()
                .is_some_and(|text| text.ends_with('y'))
        );
    }
}
