//! The redactor against a corpus of credential formats and look-alikes
//! (`waypost_test_support::secrets`: secrets are assembled at run time, so
//! the repository holds no literal token).

use std::collections::BTreeSet;

use waypost_schemas::secrets::{RULE_SET, path_only_rules, rule_ids, rules_that_do_not_compile};
use waypost_schemas::{Excerpt, redact};
use waypost_test_support::secrets::{corpus, look_alikes, multi_line};

#[test]
fn schema_003_every_credential_format_is_redacted() {
    let corpus = corpus();
    let formats: BTreeSet<&str> = corpus.iter().map(|p| p.format).collect();
    assert!(formats.len() >= 80, "{} formats", formats.len());
    let mut failures = Vec::new();
    for planted in corpus.iter().chain(&multi_line()) {
        let out = redact(&planted.line);
        if out.contains(planted.secret.as_str()) || !out.contains("[REDACTED:") {
            failures.push(format!("{}: {:?} -> {out:?}", planted.format, planted.line));
        }
    }
    assert!(
        failures.is_empty(),
        "not redacted:\n{}",
        failures.join("\n")
    );
}

#[test]
fn schema_003_no_part_of_a_secret_long_enough_to_use_survives() {
    // Not only the whole secret: no 12-character piece of it either (a
    // marker that kept half a token would leak it).
    let mut failures = Vec::new();
    for planted in corpus() {
        let out = redact(&planted.line);
        let chars: Vec<char> = planted.secret.chars().collect();
        if chars.len() < 16 {
            continue;
        }
        for piece in chars.windows(12) {
            let piece: String = piece.iter().collect();
            if out.contains(&piece) && !planted.line.replace(&planted.secret, "").contains(&piece) {
                failures.push(format!("{}: {piece:?} survives in {out:?}", planted.format));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn look_alikes_are_left_alone() {
    let look_alikes = look_alikes();
    assert!(look_alikes.len() >= 20);
    let changed: Vec<String> = look_alikes
        .iter()
        .filter_map(|text| {
            let out = redact(text);
            (out != text.as_str()).then(|| format!("{text:?} -> {out:?}"))
        })
        .collect();
    assert!(changed.is_empty(), "changed:\n{}", changed.join("\n"));
}

#[test]
fn redacting_twice_changes_nothing_more() {
    for text in corpus()
        .into_iter()
        .chain(multi_line())
        .map(|p| p.line)
        .chain(look_alikes())
    {
        let once = redact(&text).into_owned();
        assert_eq!(redact(&once), once.as_str(), "{text:?}");
    }
}

#[test]
fn schema_003_secrets_never_reach_an_excerpt_preview_even_past_the_cut() {
    for planted in corpus().into_iter().chain(multi_line()) {
        // Put the secret so it straddles the 200-character preview cut.
        let content = format!("{}{}", " ".repeat(190), planted.line);
        let excerpt = Excerpt::new("file.txt", &content);
        let prefix: String = planted.secret.chars().take(8).collect();
        let around = planted.line.replace(&planted.secret, "");
        assert!(
            !excerpt.preview().contains(&prefix) || around.contains(&prefix),
            "{}: {:?}",
            planted.format,
            excerpt.preview()
        );
        assert!(excerpt.preview().chars().count() <= 200);
    }
}

#[test]
fn every_rule_of_the_rule_set_compiles() {
    let failures = rules_that_do_not_compile();
    assert!(
        failures.is_empty(),
        "rules the regex crate cannot compile:\n{}",
        failures
            .iter()
            .map(|(id, e)| format!("{id}: {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let ids = rule_ids();
    let from_set = RULE_SET.rules - path_only_rules().len();
    assert!(
        ids.len() >= 200,
        "{RULE_SET:?}: {} rules applied",
        ids.len()
    );
    assert!(
        ids.len() > from_set,
        "the rule set's content rules and waypost's own"
    );
    assert_eq!(RULE_SET.name, "gitleaks default configuration");
    assert_eq!(RULE_SET.license, "MIT");
}

#[test]
fn the_content_hash_is_of_the_original_content() {
    let content = "password=correct-horse-battery";
    let excerpt = Excerpt::new("a", content);
    assert_eq!(
        excerpt.content_hash(),
        waypost_schemas::canonical::sha256_hex(content.as_bytes())
    );
    assert!(
        !excerpt.preview().contains("horse"),
        "{}",
        excerpt.preview()
    );
}

#[test]
fn schema_003_secrets_that_look_like_allowlisted_words_or_markers_are_still_redacted() {
    for (text, secret) in [
        ("DB_PASSWORD=trueLove2024", "trueLove2024"),
        ("password: \"MyFalse-S3cret\"", "MyFalse-S3cret"),
        ("postgres://admin:falsehood99@db/app", "falsehood99"),
        ("api_key=Nullify2024null", "Nullify2024null"),
        (
            "password = \"[REDACTED:x] hunter2hunter2\"",
            "hunter2hunter2",
        ),
        (
            "postgres://admin:[REDACTED:x]Sup3rS3cretPw@db/app",
            "Sup3rS3cretPw",
        ),
        (
            "token=[REDACTED:ghp_8x2M1vQ7rT0yK3nB5zL9aC4dF6hJ2kP1sW0e]",
            "8x2M1vQ7rT0yK3nB5zL9",
        ),
        (
            "{\"Authorization\": \"Basic ZGVwbG95Omh1bnRlcjI=\"}",
            "ZGVwbG95Omh1bnRlcjI=",
        ),
        (
            "headers = {'Authorization': 'Basic ZGVwbG95Omh1bnRlcjI='}",
            "ZGVwbG95Omh1bnRlcjI=",
        ),
    ] {
        let out = redact(text);
        assert!(!out.contains(secret), "{text:?} -> {out:?}");
        assert_eq!(redact(&out), out.as_ref(), "idempotent: {text:?}");
    }
}
