//! A corpus of credential formats and of look-alikes, for the redactor's
//! tests.
//!
//! Every secret is assembled at run time from a seeded generator, so the
//! repository holds no token literal (and no scanner mistakes these files
//! for leaks). Each format is written on one line, as a scanner would quote
//! it; [`multi_line`] adds the forms that span lines.

/// One planted credential: who issues it, the line it sits on, and the
/// secret itself (what must never appear in any output).
#[derive(Clone, Debug)]
pub struct Planted {
    /// The provider and kind, e.g. `github personal access token`.
    pub format: &'static str,
    /// The line as it would appear in a file.
    pub line: String,
    /// The credential.
    pub secret: String,
}

/// A deterministic generator of token characters.
struct Gen(u64);

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";
const HEX: &str = "0123456789abcdef";

impl Gen {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `n` characters drawn from `alphabet`.
    fn of(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| {
                let i = usize::try_from(self.next() % chars.len() as u64).unwrap_or(0);
                chars[i]
            })
            .collect()
    }

    fn alnum(&mut self, n: usize) -> String {
        self.of(&format!("{UPPER}{LOWER}{DIGITS}"), n)
    }

    fn lower_alnum(&mut self, n: usize) -> String {
        self.of(&format!("{LOWER}{DIGITS}"), n)
    }

    fn upper_alnum(&mut self, n: usize) -> String {
        self.of(&format!("{UPPER}{DIGITS}"), n)
    }

    fn hex(&mut self, n: usize) -> String {
        self.of(HEX, n)
    }

    fn digits(&mut self, n: usize) -> String {
        self.of(DIGITS, n)
    }

    fn word(&mut self, n: usize) -> String {
        self.of(&format!("{UPPER}{LOWER}{DIGITS}_-"), n)
    }

    fn base64(&mut self, n: usize) -> String {
        self.of(&format!("{UPPER}{LOWER}{DIGITS}+/"), n)
    }

    fn letters(&mut self, n: usize) -> String {
        self.of(&format!("{UPPER}{LOWER}"), n)
    }
}

/// A PEM body of `lines` lines of 64 base64 characters.
fn pem_body(g: &mut Gen, lines: usize) -> Vec<String> {
    (0..lines)
        .map(|i| {
            if i == 0 {
                format!("MIIEv{}", g.base64(59))
            } else {
                g.base64(64)
            }
        })
        .collect()
}

/// A PEM block of `label` on one line, its line breaks written `\n` as in a
/// JSON string (a service-account key file).
fn pem_json(g: &mut Gen, label: &str) -> (String, String) {
    let body = pem_body(g, 4).join("\\n");
    (
        format!("-----BEGIN {label}-----\\n{body}\\n-----END {label}-----\\n"),
        body,
    )
}

/// At least 80 credential formats of different providers, each on one line.
#[allow(clippy::too_many_lines, reason = "one table")]
pub fn corpus() -> Vec<Planted> {
    let g = &mut Gen(0x5EED_CAFE_F00D_D00D);
    let mut out = Vec::new();
    let mut add = |format: &'static str, line: String, secret: String| {
        out.push(Planted {
            format,
            line,
            secret,
        });
    };
    macro_rules! plant {
        ($format:expr, $secret:expr, $line:expr) => {{
            let s: String = $secret;
            let line = format!($line, s = s);
            add($format, line, s);
        }};
    }

    // Cloud.
    plant!(
        "aws access key id",
        format!("AKIA{}", g.of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
        "aws_access_key_id = {s}"
    );
    plant!(
        "aws secret access key",
        g.base64(40),
        "aws_secret_access_key={s}"
    );
    plant!(
        "aws session token env",
        g.base64(120),
        "export AWS_SESSION_TOKEN={s}"
    );
    plant!(
        "aws bedrock api key",
        format!("ABSK{}", g.base64(132)),
        "BEDROCK_KEY: {s}"
    );
    plant!(
        "google api key",
        format!("AIza{}", g.word(35)),
        "maps.init(\"{s}\")"
    );
    plant!(
        "gcp service account private key id",
        g.hex(40),
        "\"private_key_id\": \"{s}\","
    );
    plant!(
        "azure ad client secret",
        format!("{}8Q~{}", g.alnum(3), g.alnum(34)),
        "AZURE_CLIENT_SECRET=\"{s}\""
    );
    plant!(
        "azure storage account key",
        format!("{}==", g.base64(86)),
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s};EndpointSuffix=core.windows.net"
    );
    plant!(
        "azure service bus key",
        format!("{}=", g.base64(43)),
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={s}"
    );
    plant!(
        "alibaba access key id",
        format!("LTAI{}", g.lower_alnum(20)),
        "ALIBABA_CLOUD_ACCESS_KEY_ID={s}"
    );
    plant!(
        "digitalocean personal access token",
        format!("dop_v1_{}", g.hex(64)),
        "do_token: {s}"
    );
    plant!(
        "digitalocean oauth token",
        format!("doo_v1_{}", g.hex(64)),
        "auth {s} ok"
    );
    plant!(
        "heroku api key",
        format!("HRKU-AA{}", g.word(58)),
        "HEROKU_API_KEY={s}"
    );
    plant!(
        "cloudflare api token",
        g.word(40),
        "CLOUDFLARE_API_TOKEN={s}"
    );
    plant!(
        "cloudflare origin ca key",
        format!("v1.0-{}-{}", g.hex(24), g.hex(146)),
        "origin_ca_key {s}"
    );
    plant!(
        "fly.io token",
        format!("fo1_{}", g.word(43)),
        "FLY_API_TOKEN={s}"
    );
    plant!(
        "databricks token",
        format!("dapi{}", g.hex(32)),
        "databricks configure --token {s}"
    );
    plant!(
        "alibaba secret",
        g.lower_alnum(30),
        "alibaba_secret = \"{s}\""
    );
    plant!("netlify token", g.lower_alnum(43), "NETLIFY_AUTH_TOKEN={s}");
    plant!(
        "scalingo token",
        format!("tk-us-{}", g.word(48)),
        "scalingo login --api-token {s}"
    );
    plant!(
        "openshift token",
        format!("sha256~{}", g.word(43)),
        "oc login --token={s}"
    );

    // Source hosting and CI.
    plant!(
        "github personal access token",
        format!("ghp_{}", g.alnum(36)),
        "export GH_TOKEN={s}"
    );
    plant!(
        "github oauth token",
        format!("gho_{}", g.alnum(36)),
        "Authorization token {s}"
    );
    plant!(
        "github app installation token",
        format!("ghs_{}", g.alnum(36)),
        "git clone https://x-access-token:{s}@github.com/o/r"
    );
    plant!(
        "github refresh token",
        format!("ghr_{}", g.alnum(36)),
        "refresh={s}"
    );
    plant!(
        "github fine-grained token",
        format!("github_pat_{}_{}", g.alnum(22), g.alnum(59)),
        "token: {s}"
    );
    plant!(
        "gitlab personal access token",
        format!("glpat-{}", g.alnum(20)),
        "CI uses {s} for pushes"
    );
    plant!(
        "gitlab runner token",
        format!("glrt-{}", g.alnum(20)),
        "runner register --token {s}"
    );
    plant!(
        "gitlab deploy token",
        format!("gldt-{}", g.alnum(20)),
        "deploy with {s}"
    );
    plant!(
        "gitlab pipeline trigger token",
        format!("glptt-{}", g.hex(40)),
        "curl -F token={s} https://gitlab.invalid/api"
    );
    plant!(
        "bitbucket client secret",
        g.lower_alnum(64),
        "bitbucket_client_secret = \"{s}\""
    );
    plant!("travis ci token", g.lower_alnum(22), "travis_token: {s}");
    plant!("drone ci token", g.lower_alnum(32), "DRONECI_TOKEN={s}");
    plant!("codecov token", g.lower_alnum(32), "CODECOV_TOKEN={s}");
    plant!(
        "sourcegraph token",
        format!("sgp_{}", g.hex(40)),
        "SRC_ACCESS_TOKEN={s}"
    );
    plant!(
        "sonarqube token",
        format!("squ_{}", g.lower_alnum(40)),
        "sonar.token={s}"
    );
    plant!(
        "snyk token",
        format!(
            "{}-{}-{}-{}-{}",
            g.hex(8),
            g.hex(4),
            g.hex(4),
            g.hex(4),
            g.hex(12)
        ),
        "SNYK_TOKEN={s}"
    );
    plant!("atlassian api token", g.alnum(24), "JIRA_API_TOKEN={s}");
    plant!(
        "harness token",
        format!("pat.{}.{}.{}", g.word(22), g.alnum(24), g.alnum(20)),
        "harness {s}"
    );

    // Chat and communication.
    plant!(
        "slack bot token",
        format!("xoxb-{}-{}-{}", g.digits(11), g.digits(12), g.alnum(24)),
        "SLACK_BOT_TOKEN={s}"
    );
    plant!(
        "slack user token",
        format!(
            "xoxp-{}-{}-{}-{}",
            g.digits(12),
            g.digits(12),
            g.digits(12),
            g.alnum(32)
        ),
        "slack {s}"
    );
    plant!(
        "slack app token",
        format!(
            "xapp-1-A{}-{}-{}",
            g.upper_alnum(10),
            g.digits(13),
            g.hex(64)
        ),
        "SLACK_APP_TOKEN={s}"
    );
    plant!(
        "slack webhook",
        format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            g.upper_alnum(8),
            g.upper_alnum(8),
            g.alnum(24)
        ),
        "curl -X POST {s}"
    );
    plant!(
        "discord bot token",
        format!("M{}.{}.{}", g.alnum(25), g.word(6), g.word(38)),
        "client.login('{s}')"
    );
    plant!(
        "discord client secret",
        g.word(32),
        "DISCORD_CLIENT_SECRET={s}"
    );
    plant!(
        "telegram bot token",
        format!("{}:AA{}", g.digits(10), g.word(33)),
        "TELEGRAM_BOT_TOKEN={s}"
    );
    plant!(
        "microsoft teams webhook",
        format!(
            "https://acme.webhook.office.com/webhookb2/{}-{}-{}-{}-{}@{}-{}-{}-{}-{}/IncomingWebhook/{}/{}-{}-{}-{}-{}",
            g.hex(8),
            g.hex(4),
            g.hex(4),
            g.hex(4),
            g.hex(12),
            g.hex(8),
            g.hex(4),
            g.hex(4),
            g.hex(4),
            g.hex(12),
            g.hex(32),
            g.hex(8),
            g.hex(4),
            g.hex(4),
            g.hex(4),
            g.hex(12)
        ),
        "webhook: {s}"
    );
    plant!("twilio api key", format!("SK{}", g.hex(32)), "twilio {s}");
    plant!(
        "sendgrid api key",
        format!("SG.{}.{}", g.word(22), g.word(43)),
        "mail via {s}"
    );
    plant!(
        "mailgun api key",
        format!("key-{}", g.hex(32)),
        "MAILGUN_API_KEY={s}"
    );
    plant!(
        "mailchimp api key",
        format!("{}-us12", g.hex(32)),
        "mailchimp_key = \"{s}\""
    );
    plant!(
        "brevo api key",
        format!("xkeysib-{}-{}", g.hex(64), g.alnum(16)),
        "BREVO={s}"
    );
    plant!(
        "mattermost token",
        g.lower_alnum(26),
        "mattermost_token: {s}"
    );
    plant!("intercom token", g.word(60), "INTERCOM_ACCESS_TOKEN={s}");

    // Payments and commerce.
    plant!(
        "stripe secret key",
        format!("sk_live_{}", g.alnum(24)),
        "Stripe.api_key = '{s}'"
    );
    plant!(
        "stripe restricted key",
        format!("rk_live_{}", g.alnum(24)),
        "STRIPE={s}"
    );
    plant!(
        "square access token",
        format!("sq0atp-{}", g.word(22)),
        "square {s}"
    );
    plant!(
        "shopify access token",
        format!("shpat_{}", g.hex(32)),
        "X-Shopify-Access-Token: {s}"
    );
    plant!(
        "shopify shared secret",
        format!("shpss_{}", g.hex(32)),
        "shopify {s}"
    );
    plant!(
        "shippo token",
        format!("shippo_live_{}", g.hex(40)),
        "SHIPPO={s}"
    );
    plant!(
        "easypost key",
        format!("EZAK{}", g.lower_alnum(54)),
        "easypost {s}"
    );
    plant!(
        "gocardless token",
        format!("live_{}", g.word(40)),
        "GOCARDLESS_TOKEN={s}"
    );
    plant!("plaid secret", g.lower_alnum(30), "PLAID_SECRET={s}");
    plant!("coinbase token", g.word(64), "coinbase_token = \"{s}\"");
    plant!(
        "flutterwave secret key",
        format!("FLWSECK_TEST-{}-X", g.hex(32)),
        "flw {s}"
    );
    plant!(
        "duffel token",
        format!("duffel_live_{}", g.word(43)),
        "duffel {s}"
    );

    // AI APIs.
    plant!(
        "openai project key",
        format!("sk-proj-{}T3BlbkFJ{}", g.word(74), g.word(74)),
        "OPENAI_API_KEY={s}"
    );
    plant!(
        "openai legacy key",
        format!("sk-{}T3BlbkFJ{}", g.alnum(20), g.alnum(20)),
        "openai.api_key = \"{s}\""
    );
    plant!(
        "anthropic api key",
        format!("sk-ant-api03-{}AA", g.word(93)),
        "key {s}"
    );
    plant!(
        "anthropic admin key",
        format!("sk-ant-admin01-{}AA", g.word(93)),
        "ANTHROPIC_ADMIN_KEY={s}"
    );
    plant!(
        "hugging face token",
        format!("hf_{}", g.letters(34)),
        "HF_TOKEN={s}"
    );
    plant!(
        "hugging face org token",
        format!("api_org_{}", g.letters(34)),
        "hub {s}"
    );
    plant!(
        "perplexity key",
        format!("pplx-{}", g.alnum(48)),
        "PPLX={s}"
    );
    plant!("cohere key", g.alnum(40), "COHERE_API_KEY=\"{s}\"");
    plant!(
        "replicate token",
        format!("r8_{}", g.alnum(37)),
        "REPLICATE_API_TOKEN={s}"
    );
    plant!(
        "groq key",
        format!("gsk_{}", g.alnum(52)),
        "client = Groq(api_key=\"{s}\")"
    );
    plant!("mistral key", g.alnum(32), "MISTRAL_API_KEY={s}");

    // Package registries.
    plant!(
        "npm token",
        format!("npm_{}", g.alnum(36)),
        "//registry.npmjs.org/:_authToken={s}"
    );
    plant!(
        "pypi token",
        format!("pypi-AgEIcHlwaS5vcmc{}", g.word(70)),
        "password = {s}"
    );
    plant!(
        "rubygems key",
        format!("rubygems_{}", g.hex(48)),
        ":rubygems_api_key: {s}"
    );
    plant!(
        "clojars token",
        format!("CLOJARS_{}", g.lower_alnum(60)),
        "clojars {s}"
    );
    plant!(
        "artifactory api key",
        format!("AKCp{}", g.alnum(69)),
        "artifactory {s}"
    );
    plant!(
        "docker hub token",
        format!("dckr_pat_{}", g.word(27)),
        "echo {s} | docker login -u me --password-stdin"
    );
    plant!(
        "docker config auth",
        g.base64(44),
        "{{\"auths\": {{\"r\": {{\"auth\": \"{s}\"}}}}}}"
    );
    plant!(
        "crates.io token",
        format!("cio{}", g.alnum(32)),
        "CARGO_REGISTRY_TOKEN={s}"
    );
    plant!(
        "nuget api key",
        format!("oy2{}", g.lower_alnum(43)),
        "dotnet nuget push -k {s}"
    );

    // Databases and data services.
    plant!(
        "postgres url password",
        g.alnum(16),
        "DATABASE_URL=postgres://app:{s}@db.internal:5432/app"
    );
    plant!(
        "mysql url password",
        g.alnum(16),
        "mysql://root:{s}@127.0.0.1:3306/db"
    );
    plant!(
        "mongodb url password",
        g.alnum(16),
        "MONGO_URI=mongodb+srv://admin:{s}@cluster0.example.mongodb.net/"
    );
    plant!(
        "redis url password",
        g.alnum(16),
        "REDIS_URL=redis://:{s}@cache:6379/0"
    );
    plant!(
        "amqp url password",
        g.alnum(16),
        "amqp://guest:{s}@rabbit:5672/"
    );
    plant!(
        ".net connection string",
        g.alnum(16),
        "Server=db;Database=app;User Id=sa;Password={s};"
    );
    plant!(
        "jdbc password",
        g.alnum(16),
        "jdbc:postgresql://db/app?user=app&password={s}"
    );
    plant!(
        "planetscale password",
        format!("pscale_pw_{}", g.word(43)),
        "DATABASE_PASSWORD={s}"
    );
    plant!(
        "planetscale token",
        format!("pscale_tkn_{}", g.word(43)),
        "pscale {s}"
    );
    plant!(
        "confluent secret",
        g.lower_alnum(64),
        "confluent_secret = \"{s}\""
    );
    plant!(
        "algolia admin key",
        g.lower_alnum(32),
        "ALGOLIA_ADMIN_KEY={s}"
    );
    plant!("datadog api key", g.lower_alnum(40), "DATADOG_API_KEY={s}");
    plant!(
        "new relic user key",
        format!("NRAK-{}", g.upper_alnum(27)),
        "NEW_RELIC_API_KEY={s}"
    );
    plant!(
        "sentry user token",
        format!("sntryu_{}", g.hex(64)),
        "SENTRY_AUTH_TOKEN={s}"
    );
    plant!(
        "grafana cloud token",
        format!("glc_{}", g.alnum(40)),
        "grafana {s}"
    );
    plant!(
        "grafana service account token",
        format!("glsa_{}_{}", g.alnum(32), g.hex(8)),
        "GF_TOKEN={s}"
    );
    plant!(
        "dynatrace token",
        format!("dt0c01.{}.{}", g.upper_alnum(24), g.upper_alnum(64)),
        "dynatrace {s}"
    );
    plant!(
        "linear key",
        format!("lin_api_{}", g.alnum(40)),
        "LINEAR={s}"
    );
    plant!(
        "notion token",
        format!("ntn_{}{}", g.digits(11), g.alnum(35)),
        "NOTION_TOKEN={s}"
    );
    plant!(
        "postman key",
        format!("PMAK-{}-{}", g.hex(24), g.hex(34)),
        "postman {s}"
    );
    plant!(
        "doppler token",
        format!("dp.pt.{}", g.alnum(43)),
        "DOPPLER_TOKEN={s}"
    );
    plant!(
        "vault service token",
        format!("hvs.{}", g.word(95)),
        "VAULT_TOKEN={s}"
    );
    plant!(
        "terraform cloud token",
        format!("{}.atlasv1.{}", g.lower_alnum(14), g.word(65)),
        "credentials \"app.terraform.io\" {{ token = \"{s}\" }}"
    );
    plant!(
        "pulumi token",
        format!("pul-{}", g.hex(40)),
        "PULUMI_ACCESS_TOKEN={s}"
    );
    plant!(
        "okta token",
        format!("00{}", g.word(40)),
        "OKTA_API_TOKEN={s}"
    );
    plant!(
        "1password secret key",
        format!(
            "A3-{}-{}-{}-{}-{}",
            g.upper_alnum(6),
            g.upper_alnum(11),
            g.upper_alnum(5),
            g.upper_alnum(5),
            g.upper_alnum(5)
        ),
        "op {s}"
    );
    plant!(
        "age secret key",
        format!(
            "AGE-SECRET-KEY-1{}",
            g.of("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
        ),
        "# {s}"
    );
    plant!(
        "prefect key",
        format!("pnu_{}", g.alnum(36)),
        "PREFECT_API_KEY={s}"
    );
    plant!(
        "readme key",
        format!("rdme_{}", g.lower_alnum(70)),
        "readme {s}"
    );
    plant!(
        "infracost key",
        format!("ico-{}", g.alnum(32)),
        "INFRACOST_API_KEY={s}"
    );
    plant!(
        "maxmind license key",
        format!("{}_{}_mmk", g.alnum(6), g.alnum(29)),
        "maxmind {s}"
    );
    plant!(
        "octopus deploy key",
        format!("API-{}", g.upper_alnum(26)),
        "octo {s}"
    );
    plant!(
        "facebook page token",
        format!("EAAC{}", g.alnum(110)),
        "fb {s}"
    );
    plant!(
        "twitter bearer token",
        format!("{}{}", "A".repeat(22), g.alnum(90)),
        "TWITTER_BEARER_TOKEN={s}"
    );
    plant!(
        "yandex api key",
        format!("AQVN{}", g.word(36)),
        "yandex_api_key = \"{s}\""
    );

    // Generic shapes.
    plant!(
        "jwt",
        format!(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
            g.alnum(40),
            g.word(43)
        ),
        "cookie session={s}; Path=/"
    );
    plant!(
        "authorization basic header",
        g.base64(24),
        "Authorization: Basic {s}"
    );
    plant!("bearer token", g.alnum(32), "curl -H 'X-Auth: Bearer {s}'");
    plant!(
        "curl basic auth",
        format!("deploy:{}", g.alnum(12)),
        "curl -u {s} https://example.invalid"
    );
    plant!(
        "password assignment",
        format!("{}-{}-{}", g.letters(7), g.letters(5), g.letters(7)),
        "DB_PASSWORD={s}"
    );
    plant!(
        "quoted json secret",
        format!("s3cr3t {}", g.letters(6)),
        "{{\"client_secret\": \"{s}\"}}"
    );
    plant!("yaml api key", g.hex(12), "api_key: {s}");
    plant!(
        "go assignment",
        format!("k-live-{}", g.digits(4)),
        "apiKey := \"{s}\""
    );
    plant!("kubernetes secret data", g.base64(32), "  password: {s}");
    plant!(
        "gcp service account private key",
        pem_json(g, "PRIVATE KEY").1,
        "\"private_key\": \"{s}\","
    );
    plant!(
        "high-entropy token in prose",
        g.alnum(40),
        "use the key {s} for the staging deploy"
    );
    out
}

/// Credentials written over several lines (key blocks), whole.
pub fn multi_line() -> Vec<Planted> {
    let g = &mut Gen(0xB10C_B10C_B10C_B10C);
    [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ]
    .iter()
    .map(|label| {
        let body = pem_body(g, 6).join("\n");
        Planted {
            format: "private key block",
            line: format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----"),
            secret: body,
        }
    })
    .collect()
}

/// Text that looks like a secret and is not one: evidence must keep it.
pub fn look_alikes() -> Vec<String> {
    let g = &mut Gen(0x1001_A11C_E5E5_0001);
    let sha = g.hex(40);
    let digest = g.hex(64);
    vec![
        format!("commit {sha}"),
        format!("fixed in {} (see the changelog)", &sha[..7]),
        format!("Merge {} into {}", g.hex(40), g.hex(40)),
        format!(
            "id: {}-{}-{}-{}-{}",
            g.hex(8),
            g.hex(4),
            g.hex(4),
            g.hex(4),
            g.hex(12)
        ),
        "{550E8400-E29B-41D4-A716-446655440000}".to_owned(),
        format!("gap-{}", g.hex(16)),
        format!("plan_proposal_id: planproposal-{}", g.hex(16)),
        format!("content_hash: sha256:{digest}"),
        format!("checksum = \"{}\"", g.hex(64)),
        format!("image: ghcr.io/org/app@sha256:{}", g.hex(64)),
        format!("\"integrity\": \"sha512-{}==\"", g.base64(86)),
        format!("golang.org/x/text v0.3.7 h1:{}=", g.base64(43)),
        "version = \"1.2.3-beta.4+build.5\"".to_owned(),
        "\"react\": \"^18.2.0 || >=19.0.0-rc.1\"".to_owned(),
        "fn test_parse_http2_settings_frame_with_padding() {".to_owned(),
        "let manager = getHttp2ConnectionManagerForTesting(config);".to_owned(),
        "MAX_CONNECTIONS_PER_ROUTE_DEFAULT = 20".to_owned(),
        "See src/components/UserProfile2Settings/index.tsx for the form.".to_owned(),
        "https://github.com/owner/repo/blob/main/docs/GettingStarted2.md".to_owned(),
        "Written 2026-12-02T16:22:57Z by maintainer@example.org".to_owned(),
        "let token: String = next();".to_owned(),
        "fn tokenize(input: &str) -> Vec<Token> {".to_owned(),
        "The password policy is documented in SECURITY.md.".to_owned(),
        "AKIA is the prefix AWS uses for access keys.".to_owned(),
        "org.apache.commons:commons-lang3:3.12.0".to_owned(),
        "class=\"btn btn-primary col-md-6 offset-lg-2\"".to_owned(),
        "See [the guide](docs/Configuration_Reference_v2.md) for details.".to_owned(),
    ]
}
