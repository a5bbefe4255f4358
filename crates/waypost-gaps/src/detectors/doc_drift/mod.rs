//! doc_drift: documentation that points at files that do not exist,
//! generated files older than what they are generated from, invariants that
//! are tested but not documented, and source files in critical folders that
//! do not declare their feature intent.

mod links;
pub(crate) mod lookup;
mod markdown;

pub(crate) use links::BrokenMarkdownLink;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use waypost_schemas::io::{Links, MAX_ARTIFACT_BYTES, ReadError, read_file};
use waypost_schemas::paths::{PatternSet, on_disk};
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, Marker, ScanContext, ScannedFile};
use crate::generated::{
    GeneratedFile, InputsDigest, MARKER_PREFIX, content_digest, file_digest, is_input, marker,
    recorded_digest,
};

/// Declared generated files whose inputs changed since they were generated.
/// Keeps one content digest per declared input (and the outputs' recorded
/// digests) until the walk ends.
pub(crate) struct StaleGeneratedFile {
    generators: Vec<(GeneratedFile, PatternSet)>,
    /// Per generator: its inputs as walked.
    inputs: Mutex<Vec<InputsDigest>>,
}

impl StaleGeneratedFile {
    /// Generators whose input globs do not parse are left out here; loading
    /// the configuration already refuses them.
    pub(crate) fn new(generated: &[GeneratedFile]) -> Self {
        let generators: Vec<_> = generated
            .iter()
            .filter_map(|g| g.input_set().ok().map(|set| (g.clone(), set)))
            .collect();
        Self {
            inputs: Mutex::new(vec![InputsDigest::default(); generators.len()]),
            generators,
        }
    }
}

impl Detector for StaleGeneratedFile {
    fn id(&self) -> &'static str {
        "stale_generated_file"
    }
    fn gap_type(&self) -> GapType {
        GapType::DocDrift
    }
    fn description(&self) -> &'static str {
        "a declared generated file is missing, records no inputs, or was generated from inputs that have changed since"
    }
    fn wants(&self, path: &str) -> bool {
        self.generators
            .iter()
            .any(|(g, set)| is_input(g, set, path))
    }
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {
        // Binaries and files over the cap are inputs too: hash them here,
        // in pieces. One that cannot be read is left out, as `waypost
        // generated` would refuse it.
        let digest = match file.text {
            Some(text) => content_digest(text),
            None => match file_digest(&on_disk(ctx.root, file.path)) {
                Ok(digest) => digest,
                Err(_) => return,
            },
        };
        // Hashed once, outside the lock, whichever generators it feeds.
        let mut inputs = self.inputs.lock().expect("no panics while locked");
        for (i, (generated, set)) in self.generators.iter().enumerate() {
            if is_input(generated, set, file.path) {
                inputs[i].add_hashed(file.path, digest);
            }
        }
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        // Take the state, so a detector value reused for another scan starts empty.
        let inputs = std::mem::replace(
            &mut *self.inputs.lock().expect("no panics while locked"),
            vec![InputsDigest::default(); self.generators.len()],
        );
        for ((generated, _), inputs) in self.generators.iter().zip(inputs) {
            let output = generated.output.as_str();
            let regenerate = match &generated.command {
                Some(command) => format!("run `{command}` and commit the result"),
                None => "run its generator and commit the result".to_owned(),
            };
            // Read from disk, git-ignored or not.
            let read = read_file(&ctx.root.join(output), MAX_ARTIFACT_BYTES, Links::Refuse);
            let unreadable = match &read {
                Err(ReadError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    None
                }
                Err(e) => Some(e.to_string()),
                Ok(_) => None,
            };
            let recorded = read.ok().map(|bytes| recorded_digest(&bytes));
            let current = inputs.finish();
            let inputs = inputs.len();
            let finding = match (recorded, unreadable) {
                (None, Some(why)) => Finding::of(self, RiskLevel::Medium, output, format!("Generated file {output} cannot be read"))
                    .describe(format!("waypost.toml declares {output} as generated, but {why}."))
                    .remedy(&regenerate, false),
                (None, None) => Finding::of(self, RiskLevel::Medium, output, format!("Generated file {output} is missing"))
                    .describe(format!("waypost.toml declares {output} as generated from {}, but it does not exist.", generated.inputs.join(", ")))
                    .remedy(&regenerate, false),
                (Some(None), _) => Finding::of(self, RiskLevel::Low, output, format!("Generated file {output} does not record its inputs"))
                    .describe(format!("Without a `{MARKER_PREFIX}…` line its freshness cannot be checked; the generator should write `{}`.", marker(&current)))
                    .remedy("make the generator write the marker line (`waypost generated OUTPUT` prints it)", false),
                (Some(Some(digest)), _) if digest != current => Finding::of(self, RiskLevel::Medium, output, format!("Generated file {output} is stale"))
                    .describe(format!("It was generated from other contents of its {inputs} input file(s) ({}) than the tree holds now.", generated.inputs.join(", ")))
                    .remedy(&regenerate, false),
                (Some(Some(_)), _) => continue,
            };
            out.push(finding);
        }
    }
}

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

/// A test carries an invariant id that no `// Invariant:` block declares,
/// in a project that declares invariants so (one block at least).
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
        let has_block = file.has(Marker::InvariantBlock);
        let has_test = file.has(Marker::Fn);
        if !has_block && !has_test {
            return;
        }
        let Some(text) = file.text_str() else {
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
        // A project with no `// Invariant:` block does not name tests
        // after invariants: `get_404_…` is a test of a 404, not of GET-404.
        if seen.declared.is_empty() {
            return;
        }
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

/// Source files in critical folders without a feature-intent declaration.
pub(crate) struct FeatureIntentMissing {
    pub(crate) dirs: Vec<String>,
    pub(crate) marker: String,
}

const SOURCE_EXTENSIONS: [&str; 10] = [
    "rs", "py", "ts", "tsx", "js", "go", "java", "kt", "rb", "cs",
];

impl Detector for FeatureIntentMissing {
    fn id(&self) -> &'static str {
        "feature_intent_missing"
    }
    fn gap_type(&self) -> GapType {
        GapType::DocDrift
    }
    fn description(&self) -> &'static str {
        "a source file in a configured critical folder does not declare its feature intent"
    }
    fn wants(&self, path: &str) -> bool {
        let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
        SOURCE_EXTENSIONS.contains(&extension)
            && self.dirs.iter().any(|d| {
                let d = d.trim_end_matches('/');
                path.starts_with(&format!("{d}/"))
            })
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(text) = file.text else { return };
        if memchr::memmem::find(text, self.marker.as_bytes()).is_none() {
            out.push(
                Finding::of(self, RiskLevel::Low, file.path, format!("{} does not declare its feature intent", file.path))
                    .describe(format!("Files in critical folders state what they are for with a `{}` declaration, so changes can be checked against it.", self.marker))
                    .remedy(&format!("add a `{}` comment saying what the module is for", self.marker), false),
            );
        }
    }
}
