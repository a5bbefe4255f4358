//! Guidance checks: invariants that are tested but not documented.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, Marker, ScanContext, ScannedFile};

static TEST_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"fn\s+([a-z]+)_(\d{3})_[a-z0-9_]*\s*\(").expect("literal"));
static INVARIANT_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"//\s*Invariant:\s*([A-Z]+-\d{3})\b").expect("literal"));

#[derive(Default)]
struct Seen {
    declared: BTreeSet<String>,
    /// id -> (path, line, text) of the first test carrying it.
    tested: BTreeMap<String, (String, u32, String)>,
}

/// A test carries an invariant id that no `// Invariant:` block declares.
/// Collected during the single pass over the files; judged after it.
#[derive(Default)]
pub(crate) struct InvariantUndocumented {
    seen: Mutex<Seen>,
}

impl Detector for InvariantUndocumented {
    fn id(&self) -> &'static str {
        "invariant_undocumented"
    }
    fn gap_type(&self) -> GapType {
        GapType::DocDrift
    }
    fn description(&self) -> &'static str {
        "a test is named after an invariant id that no `// Invariant:` block declares"
    }
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".rs")
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {
        let Some(bytes) = file.text else { return };
        let has_block = file.has(Marker::InvariantBlock);
        let has_test = file.has(Marker::Fn);
        if !has_block && !has_test {
            return;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        let declared: Vec<String> = if has_block {
            INVARIANT_BLOCK
                .captures_iter(text)
                .map(|c| c[1].to_owned())
                .collect()
        } else {
            Vec::new()
        };
        let mut tested = Vec::new();
        for m in TEST_ID.captures_iter(text) {
            let start = m.get(0).map_or(0, |g| g.start());
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let line = u32::try_from(text[..start].matches('\n').count() + 1).unwrap_or(u32::MAX);
            tested.push((
                format!("{}-{}", m[1].to_ascii_uppercase(), &m[2]),
                line,
                text[line_start..line_end].to_owned(),
            ));
        }
        let mut seen = self
            .seen
            .lock()
            .expect("detectors do not panic while holding the lock");
        seen.declared.extend(declared);
        for (id, line, text) in tested {
            // Keep the smallest (path, line) so the result does not depend on thread timing.
            let candidate = (file.path.to_owned(), line, text);
            let entry = seen.tested.entry(id).or_insert_with(|| candidate.clone());
            if (candidate.0.as_str(), candidate.1) < (entry.0.as_str(), entry.1) {
                *entry = candidate;
            }
        }
    }
    fn finish(&self, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        // Take the state, so a detector value reused for another scan starts empty.
        let seen = std::mem::take(&mut *self.seen.lock().expect("no panics while locked"));
        for (id, (path, line, text)) in seen.tested {
            if !seen.declared.contains(&id) {
                out.push(
                    Finding::of(self, RiskLevel::Low, &path, format!("Invariant {id} is tested but not documented"))
                        .describe(format!("A test carries the id {id}, but no `// Invariant: {id}` block says what it guards."))
                        .at_line(line, &text)
                        .remedy("write the invariant block where it is enforced", false),
                );
            }
        }
    }
}
