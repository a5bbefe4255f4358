//! sot_duplicate: a source-of-truth file in more than one folder, and a
//! ledger entry written twice.

use std::collections::BTreeMap;
use std::sync::Mutex;

use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

/// Names of source-of-truth files that must exist once.
const SOT_NAMES: [&str; 4] = [
    "BUILD_HISTORY.md",
    "DEBUG_LOG.md",
    "ARCHITECTURE_DECISIONS.md",
    "FUTURE_PLAN.md",
];

pub(crate) fn is_ledger(path: &str) -> bool {
    path.ends_with(".ledger.jsonl")
        || (path.ends_with(".jsonl") && path.split('/').any(|c| c == "sot" || c == "ledgers"))
}

/// One SOT file in several folders. Keeps the SOT files it sees (a handful
/// per repository), grouped by name, until the walk ends.
#[derive(Default)]
pub(crate) struct DuplicateSotFile {
    by_name: Mutex<BTreeMap<String, Vec<String>>>,
}

impl Detector for DuplicateSotFile {
    fn id(&self) -> &'static str {
        "duplicate_sot_file"
    }
    fn gap_type(&self) -> GapType {
        GapType::SotDuplicate
    }
    fn description(&self) -> &'static str {
        "a source-of-truth file (ledger, build history, decision log) exists in more than one folder"
    }
    fn wants(&self, path: &str) -> bool {
        SOT_NAMES.contains(&path.rsplit('/').next().unwrap_or(path)) || is_ledger(path)
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {
        let name = file.path.rsplit('/').next().unwrap_or(file.path);
        self.by_name
            .lock()
            .expect("no panics while locked")
            .entry(name.to_owned())
            .or_default()
            .push(file.path.to_owned());
    }
    fn finish(&self, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        // Take the state, so a detector value reused for another scan starts empty.
        let by_name = std::mem::take(&mut *self.by_name.lock().expect("no panics while locked"));
        for (name, mut paths) in by_name.into_iter().filter(|(_, p)| p.len() > 1) {
            paths.sort();
            let mut f = Finding::of(self, RiskLevel::Medium, &paths[0], format!("{name} exists in {} places", paths.len()))
                .describe("Two copies of one source of truth drift apart; readers cannot tell which is current.")
                .remedy("keep one copy and merge the other into it", true);
            f.paths = paths;
            out.push(f);
        }
    }
}

/// The same ledger entry id twice, or the same entry body twice.
pub(crate) struct DuplicateLedgerEntry;

impl Detector for DuplicateLedgerEntry {
    fn id(&self) -> &'static str {
        "duplicate_ledger_entry"
    }
    fn gap_type(&self) -> GapType {
        GapType::SotDuplicate
    }
    fn description(&self) -> &'static str {
        "a ledger holds the same entry id, or the same entry, twice"
    }
    fn wants(&self, path: &str) -> bool {
        is_ledger(path)
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(text) = file.text_str() else {
            return;
        };
        let mut ids: BTreeMap<String, u32> = BTreeMap::new();
        let mut bodies: BTreeMap<&str, u32> = BTreeMap::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let id = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| {
                    ["id", "entry_id"]
                        .iter()
                        .find_map(|k| v.get(*k).map(|x| x.to_string()))
                });
            let duplicate = match (&id, bodies.get(line.trim())) {
                (_, Some(first)) => Some(format!(
                    "line {line_no} repeats the entry on line {first} exactly"
                )),
                (Some(id), _) if ids.contains_key(id) => Some(format!(
                    "line {line_no} reuses entry id {id} from line {}",
                    ids[id]
                )),
                _ => None,
            };
            if let Some(what) = duplicate {
                out.push(
                    Finding::of(
                        self,
                        RiskLevel::Medium,
                        file.path,
                        format!("Duplicate entry in {}", file.path),
                    )
                    .describe(what)
                    .at_line(line_no, line)
                    .remedy(
                        "remove the duplicate through tidy, which appends a correction",
                        true,
                    ),
                );
            }
            if let Some(id) = id {
                ids.entry(id).or_insert(line_no);
            }
            bodies.entry(line.trim()).or_insert(line_no);
        }
    }
}
