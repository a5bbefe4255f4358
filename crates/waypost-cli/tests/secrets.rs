//! No credential reaches any output: credential formats of many providers
//! planted on lines the scanner quotes (broken links, so every line becomes
//! an excerpt) and in link targets (so they reach titles), then every
//! output format and every file the scan writes is searched for them.

use std::fs;
use std::path::Path;

use waypost_test_support::TestRepo;
use waypost_test_support::secrets::{Planted, corpus};

use crate::support::waypost_in;

/// Every file under `dir`, read as text.
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(text) = fs::read_to_string(&path) {
            out.push((path.display().to_string(), text));
        }
    }
    out
}

fn leaks(corpus: &[Planted], name: &str, text: &str) -> Vec<String> {
    corpus
        .iter()
        .filter(|p| text.contains(&p.secret))
        .map(|p| format!("{name}: {} ({})", p.format, p.secret))
        .collect()
}

#[test]
fn schema_003_no_planted_credential_reaches_any_output_format() {
    let corpus = corpus();
    let repo = TestRepo::new();
    let mut page = String::from("# Setup\n\n");
    for (i, planted) in corpus.iter().enumerate() {
        page.push_str(&format!(
            "See [step {i}](missing-{i}.md) then {}\n",
            planted.line
        ));
    }
    // Some in link targets, which titles and descriptions name: tokens
    // whose shape says what they are even out of context (a bare hex
    // string there is as likely a commit id, and is kept).
    let named = [
        "ghp_", "gho_", "ghs_", "npm_", "glpat-", "sk_live_", "hf_", "dop_v1_", "pnu_",
    ];
    for planted in corpus
        .iter()
        .filter(|p| named.iter().any(|n| p.secret.starts_with(n)))
    {
        let target: String = planted
            .secret
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if target == planted.secret {
            page.push_str(&format!("Also [this](keys/{target}.md).\n"));
        }
    }
    repo.write(&["docs", "setup.md"].join("/"), &page)
        .write("README.md", "# demo\n")
        .commit_all("init");
    let dir = repo.path();
    let baseline = dir.join("baseline.json");
    let baseline_arg = baseline.display().to_string();

    let mut outputs: Vec<(String, String)> = Vec::new();
    for format in ["text", "markdown", "json", "sarif"] {
        let run = waypost_in(
            dir,
            &[
                "scan", "--quiet", "--all", "--limit", "0", "--format", format, "--write",
            ],
        );
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        outputs.push((format!("scan --format {format}"), run.stdout));
        outputs.push((format!("scan --format {format} (stderr)"), run.stderr));
    }
    let run = waypost_in(dir, &["scan", "--quiet", "--write-baseline", &baseline_arg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    outputs.extend(files_under(&dir.join(".autonomous_runs")));
    outputs.push((
        baseline_arg.clone(),
        fs::read_to_string(&baseline).expect("baseline written"),
    ));

    // The lines were quoted: one excerpt per planted line, redacted.
    let json = &outputs
        .iter()
        .find(|(name, _)| name == "scan --format json")
        .expect("json output")
        .1;
    let report: serde_json::Value = serde_json::from_str(json).expect("a JSON report");
    let gaps = report["gaps"].as_array().expect("gaps");
    assert!(
        gaps.len() >= corpus.len(),
        "{} gaps for {} planted lines",
        gaps.len(),
        corpus.len()
    );
    assert!(json.contains("[REDACTED:"));
    assert!(
        outputs
            .iter()
            .any(|(name, _)| name.ends_with("gap_report_v1.json")),
        "the written report is searched too"
    );

    let found: Vec<String> = outputs
        .iter()
        .flat_map(|(name, text)| leaks(&corpus, name, text))
        .collect();
    assert!(
        found.is_empty(),
        "credentials in the output:\n{}",
        found.join("\n")
    );
}
