//! Guidance checks: invariants that are tested but not documented.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext};

static TEST_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"fn\s+([a-z]+)_(\d{3})_[a-z0-9_]*\s*\(").expect("literal"));
static INVARIANT_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"//\s*Invariant:\s*([A-Z]+-\d{3})\b").expect("literal"));

/// A test carries an invariant id that no `// Invariant:` block declares.
pub(crate) struct InvariantUndocumented;

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
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let mut declared = std::collections::BTreeSet::new();
        let mut tested: BTreeMap<String, (String, u32, String)> = BTreeMap::new();
        for (path, size) in ctx.files.iter().filter(|(p, _)| p.ends_with(".rs")) {
            if *size > 4 * 1024 * 1024 {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(ctx.root.join(path)) else {
                continue;
            };
            for c in INVARIANT_BLOCK.captures_iter(&text) {
                declared.insert(c[1].to_owned());
            }
            for (i, line) in text.lines().enumerate() {
                for c in TEST_ID.captures_iter(line) {
                    let id = format!("{}-{}", c[1].to_ascii_uppercase(), &c[2]);
                    tested.entry(id).or_insert_with(|| {
                        (
                            path.clone(),
                            u32::try_from(i + 1).unwrap_or(u32::MAX),
                            line.to_owned(),
                        )
                    });
                }
            }
        }
        for (id, (path, line, text)) in tested {
            if !declared.contains(&id) {
                out.push(
                    Finding::new(self.id(), self.gap_type(), RiskLevel::Low, &path, format!("Invariant {id} is tested but not documented"))
                        .describe(format!("A test carries the id {id}, but no `// Invariant: {id}` block says what it guards."))
                        .at_line(line, &text)
                        .remedy("write the invariant block where it is enforced", false),
                );
            }
        }
    }
}
