//! How generated code should look in a given file: compact on whitespace-minified glue,
//! indented like its surroundings on readable glue.

/// The printing style of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// Whitespace-minified input: generated code is printed without optional spaces or newlines.
    pub compact: bool,
    /// One level of indentation as the file writes it (tab, 2 or 4 spaces…).
    pub indent_unit: String,
    /// The file's line ending.
    pub newline: &'static str,
}

impl Style {
    /// Guesses the style of `text`.
    ///
    /// A file counts as minified when its average line is very long (3.1.6 `-O2` prints the whole
    /// program on one line). The indent unit is the most common positive difference in leading
    /// whitespace between consecutive lines.
    #[must_use]
    pub fn detect(text: &str) -> Self {
        let bytes = text.as_bytes();
        // As many lines as `str::lines` gives: one per `\n`, and an unterminated last one.
        let lines = memchr::memchr_iter(b'\n', bytes).count()
            + usize::from(!text.is_empty() && !text.ends_with('\n'));
        let compact = text.len() / lines.max(1) > 300;
        let newline = if memchr::memmem::find(bytes, b"\r\n").is_some() {
            "\r\n"
        } else {
            "\n"
        };
        Style {
            compact,
            indent_unit: detect_indent(text),
            newline,
        }
    }

    /// The leading whitespace of the line containing `offset`.
    #[must_use]
    pub fn indent_at(text: &str, offset: u32) -> &str {
        let start = line_start(text, offset);
        let line = &text[start..];
        let end = line
            .find(|c: char| c != ' ' && c != '\t')
            .unwrap_or(line.len());
        &line[..end]
    }

    /// Whether only whitespace precedes `offset` on its line.
    #[must_use]
    pub fn starts_line(text: &str, offset: u32) -> bool {
        let start = line_start(text, offset);
        text[start..offset as usize]
            .chars()
            .all(|c| c == ' ' || c == '\t')
    }
}

fn line_start(text: &str, offset: u32) -> usize {
    text[..offset as usize]
        .rfind(['\n', '\r'])
        .map_or(0, |i| i + 1)
}

fn detect_indent(text: &str) -> String {
    let mut tabs = 0usize;
    let mut widths = [0usize; 9];
    let mut previous = 0usize;
    for line in text.lines().take(5_000) {
        // Blank: only whitespace. Only the leading whitespace is looked at, unless a non-ASCII
        // character follows it (which may be whitespace too).
        let blank = match line
            .bytes()
            .find(|&b| !(b.is_ascii_whitespace() || b == b'\x0b'))
        {
            None => true,
            Some(b) if b.is_ascii() => false,
            Some(_) => line.trim().is_empty(),
        };
        if blank {
            continue;
        }
        if line.starts_with('\t') {
            tabs += 1;
            continue;
        }
        let width = line.len() - line.trim_start_matches(' ').len();
        if width > previous && width - previous <= 8 {
            widths[width - previous] += 1;
        }
        previous = width;
    }
    let (best, count) = widths
        .iter()
        .enumerate()
        .skip(1)
        .max_by_key(|&(w, c)| (*c, std::cmp::Reverse(w)))
        .expect("non-empty");
    if tabs > *count {
        "\t".to_owned()
    } else if *count == 0 {
        "  ".to_owned()
    } else {
        " ".repeat(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_indent_and_minification() {
        let readable = "function f() {\n    if (a) {\n        b();\n    }\n}\n";
        assert_eq!(Style::detect(readable).indent_unit, "    ");
        assert!(!Style::detect(readable).compact);
        assert_eq!(Style::detect("a {\n\tb\n\t\tc\n}\n").indent_unit, "\t");
        let minified = format!("var a={};{}", "x".repeat(400), "\n");
        assert!(Style::detect(&minified).compact);
        assert_eq!(Style::indent_at("  a\n    b", 7), "    ");
        assert!(Style::starts_line("  a\n    b", 8));
        assert!(!Style::starts_line("  a b", 4));
    }
}
