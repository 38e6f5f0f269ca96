//! ## What it does
//! Reports `growsafe-ignore` comments that silence nothing: the rule they name reports nothing
//! on the line after the comment (or, for `growsafe-ignore-file`, anywhere in the file), the
//! name is not a growsafe rule, or no rule is named at all.
//!
//! Suppressions are written on the line before the finding, or anywhere for the whole file:
//! ```js
//! // growsafe-ignore: stored-heap-view the view is re-read after every call
//! const heap = Module.HEAPU8;
//! // growsafe-ignore-file: heap-object-copy, stored-heap-view generated test harness
//! ```
//! Several rules are separated by commas; the words after the list are the reason.
//!
//! ## Why is this bad?
//! A suppression outlives the code it was written for. Once the capture it excused is gone, a
//! stale comment hides the next real hazard on that line; a misspelt rule name never silenced
//! anything in the first place.
//!
//! ## Example
//! ```js
//! // growsafe-ignore: heap-snapshot no longer needed
//! var memory = { get HEAP8() { return HEAP8; } };
//! ```
//!
//! Use instead: delete the comment.
//! ```js
//! var memory = { get HEAP8() { return HEAP8; } };
//! ```
//!
//! ## Fix safety
//! No automatic fix: growsafe does not delete comments a person wrote. A suppression is only
//! judged unused when its rule ran (`--select`/`--ignore` and `growsafe.toml` decide that).
//! Generated glue is rebuilt on every build, so comments in it do not last: use `ignore` or
//! `[[overrides]]` in `growsafe.toml` for generated files instead.
//!
//! ## References
//! - ruff's `RUF100` (unused `noqa`) and ESLint's `--report-unused-disable-directives`
