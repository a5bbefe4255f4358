//! The commented template `waypost anchor init` writes.

/// An `intention.toml` to start from: every pivot section, conservative
/// values, and a comment saying what each field is for. The north star is
/// left for the humans to write; `waypost anchor check` asks for it.
pub const TEMPLATE: &str = r#"# The intention anchor: what the humans want from agents in this repository.
# waypost reads it and never changes it without an approved revision.
# Check it with `waypost anchor check`; see it as waypost does with `waypost anchor show`.

project_id = "my-project"

[north_star]
# What should agents achieve here, and how will you see that it worked?
desired_outcomes = []
success_signals = []
non_goals = []

[safety_risk]
# Commands or path globs an agent must never touch.
never_allow = ["git push --force", ".git/**", "**/.env*", "**/*.pem"]
# Paths (globs) and commands that always need a human's approval. Write
# the paths or commands you mean: free text cannot be enforced.
requires_approval = ["**/Cargo.toml", "**/package.json", "**/pyproject.toml", ".github/**", "cargo add", "npm install", "pip install"]
# minimal | low | moderate | high
risk_tolerance = "low"

[evidence_verification]
# Checks that must pass before a change counts (no bypass).
hard_blocks = []
required_proofs = []
verification_gates = []

[scope_boundaries]
# Repository-relative paths or globs. Agents write only under these roots...
allowed_write_roots = [".autonomous_runs/"]
# ...and never modify these.
protected_paths = [".git/**", ".github/**"]
# Network endpoints agents may reach; empty means none.
network_allowlist = []

[budget_cost]
token_cap_global = 200000
token_cap_per_call = 16000
time_cap_seconds = 3600
# block | warn | request_approval
cost_escalation_policy = "block"

[memory_continuity]
# Which outcomes become permanent project memory (SOT ledgers).
persist_to_sot = []
derived_indexes = []

[governance_review]
# deny: anything no rule approves needs a human. allow is legal but high risk.
default_policy = "deny"
# Channels a human may approve through.
approval_channels = ["cli"]
# Globs that are never auto-approved, whatever a rule says.
never_auto_approve = []

# A narrow auto-approve rule: every condition must hold.
# [[governance_review.auto_approve_rules]]
# rule_id = "small-doc-fixes"
# description = "Small documentation fixes"
# criteria = { action_types = ["doc_update"], path_globs = ["docs/**", "*.md"], max_changed_lines = 40, max_risk_score = 0.2 }

[parallelism_isolation]
allowed = false
# four_layer: git worktree + workspace lease + executor lock + run-scoped artifacts.
isolation_model = "four_layer"
max_concurrent_runs = 1
"#;
