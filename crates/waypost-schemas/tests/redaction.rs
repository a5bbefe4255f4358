//! The excerpt redactor against a corpus of secret shapes. Secrets are
//! assembled at run time so the repository holds no literal token.

use waypost_schemas::{Excerpt, redact};

fn rep(unit: &str, n: usize) -> String {
    unit.repeat(n)
}

/// (shape, a line that contains the secret, the secret itself)
fn corpus() -> Vec<(&'static str, String, String)> {
    let aws_id = format!("AKIA{}", rep("Z7", 8));
    let aws_secret = rep("wJalrXUtnFEMIK7MDENGbPxRfiCY", 2)[..40].to_owned();
    let ghp = format!("ghp_{}", rep("a1B2", 9));
    let pat = format!("github_pat_{}", rep("11AB_cd", 5));
    let glpat = format!("glpat-{}", rep("xY9-", 6));
    let slack = format!("xoxb-{}-{}", rep("1", 12), rep("aB3", 8));
    let webhook = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        rep("0", 8),
        rep("1", 8),
        rep("x", 24)
    );
    let pem_body = rep("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 3);
    let jwt = format!(
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{}",
        rep("sig_", 8)
    );
    let google = format!("AIza{}", rep("Sy9_", 9)[..35].to_owned());
    let stripe = format!("sk_live_{}", rep("4eC39HqLyjWDarjtT1zdp7dc", 1));
    let openai = format!("sk-proj-{}", rep("Ab3_", 10));
    let anthropic = format!("sk-ant-api03-{}", rep("Zz9-", 10));
    let npm = format!("npm_{}", rep("a1", 18));
    let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", rep("Q2x", 20));
    let sendgrid = format!("SG.{}.{}", rep("ab_", 8), rep("Cd-", 15));
    let twilio = format!("SK{}", rep("0f", 16));
    let vault = format!("hvs.{}", rep("CAESI", 6));
    let telegram = format!("123456789:AA{}", rep("h", 33));
    let discord = format!("M{}.{}.{}", rep("T", 24), "Gabcde", rep("x", 27));
    let azure = rep(
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",
        1,
    );
    let docker = "dXNlcjpodW50ZXIyaHVudGVyMg==".to_owned();
    vec![
        (
            "aws access key id",
            format!("aws_access_key_id = {aws_id}"),
            aws_id,
        ),
        (
            "aws secret access key",
            format!("aws_secret_access_key={aws_secret}"),
            aws_secret,
        ),
        ("github token", format!("export GH={ghp}"), ghp),
        ("github fine-grained pat", format!("token: {pat}"), pat),
        ("gitlab token", format!("CI uses {glpat} for pushes"), glpat),
        ("slack bot token", format!("SLACK={slack}"), slack),
        (
            "slack webhook",
            format!("curl -X POST {webhook}"),
            webhook.clone(),
        ),
        (
            "private key block",
            format!("-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----"),
            pem_body.clone(),
        ),
        (
            "openssh private key",
            format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{pem_body}\n-----END OPENSSH PRIVATE KEY-----"
            ),
            pem_body,
        ),
        ("jwt", format!("cookie session={jwt}; Path=/"), jwt.clone()),
        (
            "authorization header",
            format!("Authorization: Basic {}", rep("dXNlcjpwYXNz", 2)),
            rep("dXNlcjpwYXNz", 2),
        ),
        (
            "bearer token in text",
            format!("curl -H 'X-Auth: Bearer {}'", rep("tok3n", 4)),
            rep("tok3n", 4),
        ),
        (
            "password assignment",
            "DB_PASSWORD=correct-horse-battery".to_owned(),
            "correct-horse-battery".to_owned(),
        ),
        (
            "quoted json secret",
            "{\"client_secret\": \"s3cr3t value\"}".to_owned(),
            "s3cr3t value".to_owned(),
        ),
        (
            "yaml api key",
            "api_key: 9f8e7d6c5b4a".to_owned(),
            "9f8e7d6c5b4a".to_owned(),
        ),
        (
            "go-style assignment",
            "apiKey := \"k-live-0042\"".to_owned(),
            "k-live-0042".to_owned(),
        ),
        (
            "credentials in url",
            "DATABASE_URL=postgres://app:hunter2hunter2@db/app".to_owned(),
            "hunter2hunter2".to_owned(),
        ),
        (
            "curl basic auth",
            "curl -u deploy:Sup3rS3cret https://example.invalid".to_owned(),
            "Sup3rS3cret".to_owned(),
        ),
        ("google api key", format!("maps({google})"), google),
        (
            "stripe secret key",
            format!("Stripe.api = '{stripe}'"),
            stripe,
        ),
        ("openai key", format!("OPENAI={openai}"), openai),
        ("anthropic key", format!("key {anthropic}"), anthropic),
        (
            "npm token",
            format!("//registry.npmjs.org/:_authToken={npm}"),
            npm,
        ),
        ("pypi token", format!("password = {pypi}"), pypi),
        ("sendgrid key", format!("mail via {sendgrid}"), sendgrid),
        ("twilio api key", format!("twilio {twilio}"), twilio),
        ("vault token", format!("VAULT={vault}"), vault),
        (
            "telegram bot token",
            format!("bot {telegram} ready"),
            telegram,
        ),
        (
            "discord bot token",
            format!("client.login('{discord}')"),
            discord,
        ),
        (
            "azure storage key",
            format!("DefaultEndpointsProtocol=https;AccountName=x;AccountKey={azure};"),
            azure,
        ),
        (
            "docker config auth",
            format!("{{\"auths\": {{\"r\": {{\"auth\": \"{docker}\"}}}}}}"),
            docker,
        ),
    ]
}

#[test]
fn schema_003_every_secret_shape_is_redacted() {
    let corpus = corpus();
    assert!(corpus.len() >= 20, "the corpus covers at least 20 shapes");
    let mut failures = Vec::new();
    for (shape, line, secret) in &corpus {
        let out = redact(line);
        if out.contains(secret.as_str()) || !out.contains("[REDACTED") {
            failures.push(format!("{shape}: {line:?} -> {out:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "not redacted:\n{}",
        failures.join("\n")
    );
}

#[test]
fn schema_003_secrets_never_reach_an_excerpt_preview_even_past_the_cut() {
    for (shape, line, secret) in corpus() {
        // Put the secret so it straddles the 200-character preview cut.
        let padding = " ".repeat(190);
        let content = format!("{padding}{line}");
        let excerpt = Excerpt::new("file.txt", &content);
        let prefix: String = secret.chars().take(8).collect();
        assert!(
            !excerpt.preview().contains(&prefix) || line.starts_with(&prefix) && secret.len() < 8,
            "{shape}: {:?}",
            excerpt.preview()
        );
        assert!(excerpt.preview().chars().count() <= 200);
    }
}

#[test]
fn ordinary_text_and_code_are_left_alone() {
    for text in [
        "fn tokenize(input: &str) -> Vec<Token> {",
        "let token: String = next();",
        "The password policy is documented in SECURITY.md.",
        "See https://example.org/docs for details.",
        "author: Jane Doe",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "AKIA is the prefix AWS uses for access keys.",
    ] {
        assert_eq!(redact(text), text, "changed: {text}");
    }
}

#[test]
fn the_content_hash_is_of_the_original_content() {
    let content = format!("password={}", rep("x", 12));
    let excerpt = Excerpt::new("a", &content);
    assert_eq!(
        excerpt.content_hash(),
        waypost_schemas::canonical::sha256_hex(content.as_bytes())
    );
    assert!(!excerpt.preview().contains(&rep("x", 12)));
}
