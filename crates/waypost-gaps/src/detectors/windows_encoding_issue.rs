//! windows_encoding_issue: content and names that break on other platforms.

use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

fn line_of(text: &[u8], offset: usize) -> u32 {
    u32::try_from(
        text[..offset.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1,
    )
    .unwrap_or(u32::MAX)
}

fn line_text(text: &[u8], line: u32) -> String {
    let l = usize::try_from(line.saturating_sub(1)).unwrap_or(0);
    String::from_utf8_lossy(text.split(|&b| b == b'\n').nth(l).unwrap_or_default()).into_owned()
}

/// Text that is not valid UTF-8.
pub(crate) struct InvalidUtf8;

impl Detector for InvalidUtf8 {
    fn id(&self) -> &'static str {
        "invalid_utf8"
    }
    fn gap_type(&self) -> GapType {
        GapType::WindowsEncodingIssue
    }
    fn description(&self) -> &'static str {
        "a text file is not valid UTF-8"
    }
    /// Not a test's fixture data, kept as it is on purpose.
    fn wants(&self, path: &str) -> bool {
        !crate::resolve::is_fixture(path)
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(text) = file.text else { return };
        if file.text_str().is_some() {
            return;
        }
        // Invalid: std says where.
        if let Err(e) = std::str::from_utf8(text) {
            let line = line_of(text, e.valid_up_to());
            out.push(
                Finding::of(self, RiskLevel::Medium, file.path, format!("{} is not valid UTF-8", file.path))
                    .describe(format!("The first invalid byte is at offset {}; tools that assume UTF-8 will fail or corrupt it.", e.valid_up_to()))
                    .at_line(line, &line_text(text, line))
                    .remedy("re-encode the file as UTF-8", true),
            );
        }
    }
}

/// A UTF-8 byte-order mark.
pub(crate) struct Utf8Bom;

impl Detector for Utf8Bom {
    fn id(&self) -> &'static str {
        "utf8_bom"
    }
    fn gap_type(&self) -> GapType {
        GapType::WindowsEncodingIssue
    }
    fn description(&self) -> &'static str {
        "a text file starts with a UTF-8 byte-order mark"
    }
    /// Not a file whose path names a BOM (`has-bom.json`, `utf8-bom/`: a
    /// test of BOM handling), nor a test's fixture data.
    fn wants(&self, path: &str) -> bool {
        let names_bom = path
            .split(['/', '-', '_', '.'])
            .any(|word| word.eq_ignore_ascii_case("bom"));
        !names_bom && !crate::resolve::is_fixture(path)
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        if file
            .text
            .is_some_and(|t| t.starts_with(&[0xEF, 0xBB, 0xBF]))
        {
            out.push(
                Finding::of(
                    self,
                    RiskLevel::Low,
                    file.path,
                    format!("{} starts with a UTF-8 BOM", file.path),
                )
                .describe(
                    "A byte-order mark breaks shebangs, JSON parsers and diffs on other platforms.",
                )
                .remedy("remove the first three bytes", false),
            );
        }
    }
}

/// CRLF and LF line endings in one file.
pub(crate) struct MixedLineEndings;

impl Detector for MixedLineEndings {
    fn id(&self) -> &'static str {
        "mixed_line_endings"
    }
    fn gap_type(&self) -> GapType {
        GapType::WindowsEncodingIssue
    }
    fn description(&self) -> &'static str {
        "a text file mixes CRLF and LF line endings"
    }
    fn wants(&self, _path: &str) -> bool {
        true
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(text) = file.text else { return };
        // Most files have no CR at all: one vector scan settles them.
        if memchr::memchr(b'\r', text).is_none() {
            return;
        }
        let (mut crlf, mut lf) = (0usize, 0usize);
        for i in memchr::memchr_iter(b'\n', text) {
            if i > 0 && text[i - 1] == b'\r' {
                crlf += 1;
            } else {
                lf += 1;
            }
        }
        if crlf > 0 && lf > 0 {
            // Point at the first line of the rarer kind.
            let rarer_is_crlf = crlf < lf;
            let at = text
                .iter()
                .enumerate()
                .find(|&(i, &b)| b == b'\n' && (i > 0 && text[i - 1] == b'\r') == rarer_is_crlf)
                .map_or(0, |(i, _)| i);
            let line = line_of(text, at);
            out.push(
                Finding::of(self, RiskLevel::Low, file.path, format!("{} mixes CRLF and LF line endings", file.path))
                    .describe(format!("{crlf} CRLF and {lf} LF line endings; diffs and tools will disagree about this file."))
                    .at_line(line, &line_text(text, line))
                    .remedy("normalise the file to one line ending (and set .gitattributes)", false),
            );
        }
    }
}

const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Why `component` cannot be a Windows file name, if it cannot.
fn windows_problem(component: &str) -> Option<String> {
    if let Some(c) = component
        .chars()
        .find(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') || (*c as u32) < 32)
    {
        return Some(format!("contains `{}`", c.escape_debug()));
    }
    if component.ends_with('.') || component.ends_with(' ') {
        return Some("ends with a dot or a space".into());
    }
    let stem = component.split('.').next().unwrap_or_default().trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        return Some(format!("uses the reserved device name `{stem}`"));
    }
    None
}

/// Names Windows cannot create.
pub(crate) struct WindowsInvalidName;

impl Detector for WindowsInvalidName {
    fn id(&self) -> &'static str {
        "windows_invalid_name"
    }
    fn gap_type(&self) -> GapType {
        GapType::WindowsEncodingIssue
    }
    fn description(&self) -> &'static str {
        "a path cannot exist on Windows (reserved names, forbidden characters, trailing dot or space)"
    }
    fn wants(&self, _path: &str) -> bool {
        true
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let path = file.path;
        if let Some(problem) = path.split('/').find_map(windows_problem) {
            out.push(
                Finding::of(
                    self,
                    RiskLevel::Medium,
                    path,
                    format!("{path} cannot exist on Windows"),
                )
                .describe(format!(
                    "A path component {problem}; checkouts on Windows fail."
                ))
                .remedy("rename the file", true),
            );
        }
    }
}

/// Paths that differ only in case.
pub(crate) struct CaseCollision;

impl Detector for CaseCollision {
    fn id(&self) -> &'static str {
        "case_collision"
    }
    fn gap_type(&self) -> GapType {
        GapType::WindowsEncodingIssue
    }
    fn description(&self) -> &'static str {
        "two paths differ only in letter case and collide on case-insensitive file systems"
    }
    /// Two paths can only collide through two entries of one folder that
    /// differ only in case (a folder collision moves everything below it),
    /// so each folder's own listing is compared: nothing is kept across
    /// folders. The listing includes entries .gitignore hides; they collide
    /// on disk just the same.
    fn check_dir(&self, dir: &str, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Ok(entries) = std::fs::read_dir(waypost_schemas::paths::on_disk(ctx.root, dir)) else {
            return;
        };
        let mut names: Vec<String> = Vec::new();
        for entry in entries.flatten() {
            let name = waypost_schemas::paths::escape_os(&entry.file_name()).into_owned();
            if dir.is_empty() && name == ".git" {
                continue;
            }
            names.push(name);
        }
        // Sorted by the lowercase form, names that fold alike are next to
        // each other; no lowercase copy is made of an ASCII name.
        names.sort_unstable_by(|a, b| folded_order(a, b));
        for names in names
            .chunk_by(|a, b| folded_order(a, b).is_eq())
            .filter(|n| n.len() > 1)
        {
            let mut paths: Vec<String> = names
                .iter()
                .map(|n| {
                    if dir.is_empty() {
                        n.clone()
                    } else {
                        format!("{dir}/{n}")
                    }
                })
                .collect();
            paths.sort();
            let mut f = Finding::of(self, RiskLevel::Medium, &paths[0], format!("{} collide under case folding", paths.join(" and ")))
                .describe("On Windows and macOS only one of these can exist; a checkout silently loses the other.")
                .remedy("rename one of them", true);
            f.paths = paths;
            out.push(f);
        }
    }
}

/// The order of `a` and `b` by their lowercase forms ([`str::to_lowercase`]),
/// without building those forms when both are ASCII (they are then the
/// ASCII lowercase forms).
fn folded_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

/// Paths longer than Windows' classic limit.
pub(crate) struct PathTooLong;

/// Windows' MAX_PATH, minus room for the checkout's own folder.
pub(crate) const MAX_PATH: usize = 260;

impl Detector for PathTooLong {
    fn id(&self) -> &'static str {
        "path_too_long"
    }
    fn gap_type(&self) -> GapType {
        GapType::WindowsEncodingIssue
    }
    fn description(&self) -> &'static str {
        "a repository-relative path is longer than 260 characters"
    }
    fn wants(&self, path: &str) -> bool {
        // More than MAX_PATH characters needs more than MAX_PATH bytes.
        path.len() > MAX_PATH && path.chars().count() > MAX_PATH
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let path = file.path;
        out.push(
            Finding::of(
                self,
                RiskLevel::Low,
                path,
                "A path is longer than 260 characters",
            )
            .describe(format!(
                "{} characters; Windows tools without long-path support cannot open it.",
                path.chars().count()
            ))
            .remedy("shorten the folder or file names", true),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::folded_order;

    #[test]
    fn folded_order_is_the_order_of_lowercase_forms() {
        let names = [
            "README.md",
            "readme.md",
            "Readme.MD",
            "a",
            "B",
            "b",
            "Ä.txt",
            "ä.txt",
            "ΣΑΣ",
            "σας",
            "İ",
            "i",
            "ß",
            "SS",
            "_x",
            "[y",
            "Z",
            "é",
            "E\u{301}",
        ];
        for a in names {
            for b in names {
                assert_eq!(
                    folded_order(a, b),
                    a.to_lowercase().cmp(&b.to_lowercase()),
                    "{a} and {b}"
                );
            }
        }
    }
}
