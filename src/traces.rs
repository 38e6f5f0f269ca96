//! The fast path: a file with no trace of what any pass looks for is answered from its text,
//! without parsing it and without running the passes. No finding, remark or fix can come out of
//! it, so `check` reports nothing and `fix` leaves it untouched; the price is that a syntax error
//! in such a file goes unreported (growsafe is not a syntax checker for code unrelated to heap
//! views). Binary data — a NUL character — is still parsed, so that it is reported as an error.
//!
//! Why it is safe: every finding and remark of every pass needs, somewhere in the file, one of
//! - a heap view (`views`): a binding named `HEAP8` … or `GROWABLE_HEAP_…`, or one a refresh
//!   function assigns `new <Int8|…|BigUint64>Array(…)`; `Module.HEAPx` — text `HEAP`, or a
//!   typed array's name, which ends in `8Array`, `6Array`, `2Array`, `4Array` or `dArray`;
//! - a typed array, `DataView` or memory buffer (`kept`: `new Uint8Array(x.buffer)`,
//!   `X.buffer`, `view.subarray(…)`) — a typed array's name, `DataView`, `buffer`, `HEAP`;
//! - an Asyncify runtime (`asyncify-sleep-alloc`): `var Asyncify = {…}`, `$Asyncify`, JSPI's
//!   `WebAssembly.Suspending`/`promising`/`Function`, the `invalid state: ` message of
//!   Closure-renamed glue, growsafe's own `growsafeAsyncify` — text `Asyncify`, `WebAssembly`,
//!   `invalid state`, `growsafe`; or, with every name renamed, a function shaped like `allocateData`
//!   (`var a = f(N), b = a + 12; …` with a header of 12 or 24 bytes) — a numeric literal 12 or
//!   24;
//! - a `growsafe-ignore` comment (`unused-suppression`) — text `growsafe`.
//!
//! The names above are matched by the passes on identifiers and string values, which equal their
//! source text unless written with escapes. So the search runs on the text with escapes undone
//! where that is exact (`\H` is `H`, `\ ` is a space; a `\n` becomes `n`, a letter where the
//! value has a line break, which can only add matches, as no trace word holds a line break),
//! and gives up — no fast path — on any escape that can spell an
//! arbitrary character (`\u`, `\x`, octal, line continuations). Numbers are found by scanning
//! every literal-like run of the text; one that cannot be read counts as 12.
//!
//! `.tsx` files never take the fast path (JSX attribute strings decode HTML entities).
//!
//! The guard is tested: every fixture and pinned real glue file on which a pass reports
//! anything has a trace (`tests` in `lib.rs`), and check/fix output is the same with and
//! without the fast path.

use crate::source::Lang;

/// Words whose absence (after undoing escapes) proves that no pass can report anything. The
/// typed arrays are found by the ends of their names (`Int8Array` … `BigUint64Array`,
/// `Uint8ClampedArray`, `Float16Array`), so that `Array.isArray` alone is no trace.
pub(crate) const TRACE_WORDS: [&str; 12] = [
    "HEAP",
    "8Array",
    "6Array",
    "2Array",
    "4Array",
    "dArray",
    "DataView",
    "buffer",
    "Asyncify",
    "WebAssembly",
    "invalid state",
    "growsafe",
];

/// Header sizes of Asyncify's data block (`allocateData`'s `ptr + 12` / `ptr + 24`), which a
/// fully renamed runtime is recognised by.
pub(crate) const TRACE_NUMBERS: [f64; 2] = [12.0, 24.0];

/// Whether `text` may hold something a pass reports on (`false`: provably nothing).
pub(crate) fn has_traces(text: &str, lang: Lang) -> bool {
    if lang == Lang::Tsx {
        return true;
    }
    if TRACE_WORDS.iter().any(|w| text.contains(w)) {
        return true;
    }
    if text.contains('\\') {
        let Some(unescaped) = unescape(text) else {
            return true;
        };
        if TRACE_WORDS.iter().any(|w| unescaped.contains(w)) {
            return true;
        }
    }
    has_number(text, &TRACE_NUMBERS)
}

/// Whether `text` holds a NUL character: binary data rather than JavaScript (as `git` and
/// `ripgrep` decide). The fast path still parses such a file, so that it is reported as an error
/// instead of passing unread.
pub(crate) fn is_binary(text: &str) -> bool {
    text.as_bytes().contains(&0)
}

/// `text` with each `\c` replaced by `c` and `\\` by a space; `None` if an escape can stand for
/// an arbitrary character (`\u`, `\x`, `\0`–`\7`, a line continuation).
fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let mut after = rest[at + 1..].chars();
        match after.next() {
            None => {}
            Some('u' | 'x' | '0'..='7' | '\r' | '\n' | '\u{2028}' | '\u{2029}') => return None,
            Some('\\') => out.push(' '),
            Some(next) => out.push(next),
        }
        rest = after.as_str();
    }
    out.push_str(rest);
    Some(out)
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Whether a numeric literal of the text may have one of `values`: every run that starts like a
/// number (a digit, or `.` and a digit, not inside an ASCII identifier) is read as a JS numeric
/// literal (decimal, legacy octal, `0x`/`0o`/`0b`, separators, a BigInt suffix). A run that does
/// not read as one literal (`1.2.3` in a version string, `2px`) is read the way the lexer would
/// read its pieces (see [`decimal_pieces`]); a piece that does not read counts as a match.
fn has_number(text: &str, values: &[f64]) -> bool {
    !number_positions(text, values, true).is_empty()
}

/// Where the numeric literals of the text that may have one of `values` start (read as
/// [`has_number`] reads them); with `first`, stops at the first.
pub(crate) fn number_positions(text: &str, values: &[f64], first: bool) -> Vec<usize> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !starts_number(b, i) || (i > 0 && is_ident_byte(b[i - 1])) {
            i += 1;
            continue;
        }
        let j = run_end(b, i);
        if run_may_be(&text[i..j], values) {
            out.push(i);
            if first {
                break;
            }
        }
        i = j;
    }
    out
}

/// Whether a numeric literal can start at `i`: a digit, or `.` and a digit.
pub(crate) fn starts_number(b: &[u8], i: usize) -> bool {
    b[i].is_ascii_digit() || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
}

/// The end of the run that starts like a number at `start`: identifier bytes, `.`, and a sign
/// after an exponent's `e`.
pub(crate) fn run_end(b: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < b.len()
        && (is_ident_byte(b[j])
            || b[j] == b'.'
            || (matches!(b[j], b'+' | b'-') && matches!(b[j - 1], b'e' | b'E')))
    {
        j += 1;
    }
    j
}

/// Whether a run that starts like a number may hold a literal with one of `values` (see
/// [`number_positions`]).
pub(crate) fn run_may_be(run: &str, values: &[f64]) -> bool {
    if let Some(value) = plain_integer(run.as_bytes()) {
        return values.contains(&value);
    }
    match number_values(run) {
        Some((value, octal)) => {
            values.contains(&value) || octal.is_some_and(|v| values.contains(&v))
        }
        None => decimal_pieces(run).is_none_or(|found| found.iter().any(|v| values.contains(v))),
    }
}

/// The value of a run of at most 15 decimal digits without a leading zero (most numbers of a
/// file, read without parsing a float: exact below 2^53).
fn plain_integer(run: &[u8]) -> Option<f64> {
    if run.is_empty() || run.len() > 15 || (run[0] == b'0' && run.len() > 1) {
        return None;
    }
    let mut value = 0u64;
    for &b in run {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    #[allow(clippy::cast_precision_loss)] // below 10^15 < 2^53: exact
    Some(value as f64)
}

/// The values of the literals the lexer could read in a run that is not one literal
/// (`1.2.3` in a version string, `1.x`, `2px`): from each digit (or `.` and digit) not inside a
/// piece already read, the longest decimal literal (digits and `_`, a fraction, an exponent, a
/// BigInt `n`); `None` (a possible match) at a `0x`/`0o`/`0b` prefix.
fn decimal_pieces(run: &str) -> Option<Vec<f64>> {
    let b = run.as_bytes();
    let digits_from = |mut k: usize| {
        while k < b.len() && (b[k].is_ascii_digit() || b[k] == b'_') {
            k += 1;
        }
        k
    };
    let mut values = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !starts_number(b, i) {
            i += 1;
            continue;
        }
        if b[i] == b'0' && b.get(i + 1).is_some_and(|c| b"xXoObB".contains(c)) {
            return None;
        }
        let mut k = digits_from(i);
        if b.get(k) == Some(&b'.') {
            k = digits_from(k + 1);
        }
        if b.get(k).is_some_and(|c| matches!(c, b'e' | b'E')) {
            let sign = usize::from(b.get(k + 1).is_some_and(|c| matches!(c, b'+' | b'-')));
            if b.get(k + 1 + sign).is_some_and(u8::is_ascii_digit) {
                k = digits_from(k + 1 + sign);
            }
        }
        if b.get(k) == Some(&b'n') {
            k += 1;
        }
        let (value, octal) = number_values(&run[i..k])?;
        values.push(value);
        values.extend(octal);
        i = k;
    }
    Some(values)
}

/// The value a numeric-literal-like run may have, and its legacy octal value for a leading `0`;
/// `None` when it does not read as a number.
fn number_values(run: &str) -> Option<(f64, Option<f64>)> {
    let digits: std::borrow::Cow<'_, str> = if run.contains('_') {
        run.chars().filter(|&c| c != '_').collect::<String>().into()
    } else {
        run.into()
    };
    let digits = digits.strip_suffix('n').unwrap_or(&digits);
    let radix = |prefix: &[&str], radix: u32| {
        prefix
            .iter()
            .find_map(|p| digits.strip_prefix(p))
            .map(|rest| u128::from_str_radix(rest, radix).ok().map(|v| v as f64))
    };
    if let Some(v) = radix(&["0x", "0X"], 16)
        .or_else(|| radix(&["0o", "0O"], 8))
        .or_else(|| radix(&["0b", "0B"], 2))
    {
        return Some((v?, None));
    }
    let octal = if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        u128::from_str_radix(digits, 8).ok().map(|v| v as f64)
    } else {
        None
    };
    Some((digits.parse::<f64>().ok()?, octal))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traced(text: &str) -> bool {
        has_traces(text, Lang::JavaScript)
    }

    #[test]
    fn plain_code_has_no_traces() {
        assert!(!traced(
            "function add(a, b) { return a + b * 2; }\nconsole.log(add(1, 3.5e3));\n"
        ));
        assert!(!traced("var s = 'a\\nb\\t\\\\c', r = /\\d+\\.\\w/;\n"));
        assert!(!traced(
            "if (!Array.isArray(x)) throw new Error('invalid argument');\n"
        ));
    }

    #[test]
    fn names_and_escaped_names_are_traces() {
        for text in [
            "var x = HEAP8;",
            "new Uint8Array(8)",
            "new Uint8ClampedArray(8)",
            "new Float16Array(8)",
            "new BigUint64Array(8)",
            "m.buffer",
            "new DataView(b)",
            "var Asyncify = {}",
            "WebAssembly.promising",
            "'invalid state: '",
            "// growsafe-ignore: heap-snapshot",
            "var x = \\u0048EAP8;",
            "x['\\x48EAP8']",
            "x['\\110EAP8']",
            "x['\\H\\E\\A\\P8']",
            "x['HE\\\nAP8']",
        ] {
            assert!(traced(text), "{text}");
        }
    }

    #[test]
    fn asyncify_header_sizes_are_traces_in_every_spelling() {
        for n in [
            "12", "24", "12.0", "1.2e1", "1.2e+1", ".12e2", "0xc", "0X18", "0o14", "0b1100", "014",
            "030", "1_2", "12n", "12.",
        ] {
            let text = format!("function f() {{ var a = g(), b = a + {n}; return a; }}");
            assert!(traced(&text), "{n}");
        }
        for n in [
            "1.2.3",
            "127.0.0.1",
            "11.99999999999999999.5",
            "2.4.0",
            "12px",
            "1.2e1.5",
        ] {
            let text = format!("var v = '{n}';");
            assert_eq!(
                traced(&text),
                !["1.2.3", "127.0.0.1", "2.4.0"].contains(&n),
                "{n}"
            );
        }
        for n in [
            "13", "0x1", "120", "a12", "x24y", "3px", "1.x", "2nd", "1.5.7",
        ] {
            let text = format!("var b = a + {n};");
            assert!(!traced(&text), "{n}");
        }
    }

    #[test]
    fn tsx_always_takes_the_full_path() {
        assert!(has_traces("var a = 1;", Lang::Tsx));
        assert!(!has_traces("var a: number = 1;", Lang::TypeScript));
    }
}
