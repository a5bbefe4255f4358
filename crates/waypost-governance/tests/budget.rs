//! POLICY-005: budgets; which cap fired; escalation; caps never raised.

use std::collections::BTreeMap;

use serde_json::json;
use waypost_governance::{Budget, BudgetError, Caps, Limit, Recorded, Spend};

fn budget(policy: &str) -> Budget {
    let anchor = serde_json::from_value(json!({
        "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {"budget_cost": {"token_cap_global": 1000, "token_cap_per_call": 400, "time_cap_seconds": 60, "cost_escalation_policy": policy}}
    }))
    .expect("anchor");
    let phases = BTreeMap::from([(
        "plan".to_owned(),
        Caps {
            tokens: Some(500),
            seconds: None,
        },
    )]);
    Budget::from_anchor(&anchor, phases)
}

fn tokens(n: u64) -> Spend {
    Spend {
        tokens: n,
        seconds: 1,
    }
}

#[test]
fn run_phase_and_per_call_caps_are_different_limits() {
    let mut b = budget("block");
    assert_eq!(b.record("plan", tokens(300)), Ok(Recorded::Within));
    // Phase cap 500: 300 + 300 crosses it, the run cap (1000) does not.
    let err = b.record("plan", tokens(300)).expect_err("phase cap");
    let BudgetError::Blocked(crossed) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        crossed.iter().map(|c| c.limit.clone()).collect::<Vec<_>>(),
        [Limit::PhaseTokens("plan".into())]
    );
    assert!(
        err.to_string()
            .contains("the token cap of phase `plan` is 500, this spend would reach 600"),
        "{err}"
    );
    // Another phase has no phase cap; the run cap fires at 1000.
    assert_eq!(b.record("build", tokens(350)), Ok(Recorded::Within));
    assert_eq!(b.record("build", tokens(350)), Ok(Recorded::Within));
    let err = b.record("build", tokens(100)).expect_err("run cap");
    assert!(
        err.to_string()
            .contains("the run's token cap is 1000, this spend would reach 1100"),
        "{err}"
    );
    // A single call over the per-call cap.
    let err = b.record("build", tokens(401)).expect_err("per call");
    let BudgetError::Blocked(crossed) = &err else {
        panic!("{err}")
    };
    assert_eq!(crossed[0].limit, Limit::PerCallTokens);
    // Time is a cap of its own.
    let err = b
        .record(
            "build",
            Spend {
                tokens: 0,
                seconds: 61,
            },
        )
        .expect_err("time");
    assert!(
        err.to_string().contains("the run's time cap is 60"),
        "{err}"
    );
    assert_eq!(
        b.spent(),
        Spend {
            tokens: 1000,
            seconds: 3
        },
        "refused spends are not recorded"
    );
}

#[test]
fn the_escalation_policy_decides_at_a_cap() {
    let mut warn = budget("warn");
    let recorded = warn.record("plan", tokens(450)).expect("recorded");
    assert!(
        matches!(recorded, Recorded::Warned(ref c) if c[0].limit == Limit::PerCallTokens),
        "{recorded:?}"
    );
    assert_eq!(warn.spent().tokens, 450);

    let mut ask = budget("request_approval");
    assert!(matches!(
        ask.record("plan", tokens(450)),
        Err(BudgetError::NeedsApproval(_))
    ));
    assert_eq!(ask.spent().tokens, 0);
}

#[test]
fn policy_005_an_approved_overspend_does_not_raise_the_cap() {
    let mut b = budget("request_approval");
    b.record_approved("plan", tokens(600), "alice");
    assert_eq!(b.records()[0].approved_by.as_deref(), Some("alice"));
    assert!(
        !b.records()[0].crossed.is_empty(),
        "the record says which caps it crossed"
    );
    // The phase is already over its cap: the next spend, however small, meets it again.
    assert!(matches!(
        b.record("plan", tokens(1)),
        Err(BudgetError::NeedsApproval(_))
    ));
}
