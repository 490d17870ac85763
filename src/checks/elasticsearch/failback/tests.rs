//! The gate's table and memory, round by round, without a network.

use std::collections::BTreeMap;
use std::time::Duration;

use super::gate::Gates;
use super::read::{Follow, Role, Side};
use super::*;
use crate::checks::elasticsearch::ccr::Progress;

fn fb(rounds: u32) -> FailbackConfig {
    FailbackConfig {
        peer_urls: vec!["http://127.0.0.1:9201".parse().unwrap()],
        peer_auth: crate::config::EsAuth::None,
        peer_ca_file: None,
        peer_alias: Some("secondary".into()),
        alias_on_peer: Some("primary".into()),
        peer_unreachable: Status::Warn,
        caught_up_rounds: rounds,
        max_lag_operations: 0,
        state_file: None,
    }
}

fn follower(remote: &str, lag: i64) -> Role {
    Role::Follower(Follow {
        remote: remote.into(),
        leader_index: "orders".into(),
        paused: false,
        read_poll_timeout: Duration::from_secs(60),
        stats: Some(Progress {
            lag,
            since_read_ms: 10,
            read_exceptions: 0,
            fatal: None,
            checkpoints: BTreeMap::from([(0, 1000 - lag)]),
        }),
    })
}

fn side(uuid: &str, role: Role) -> Result<Side, String> {
    Ok(Side {
        name: uuid.to_lowercase(),
        uuid: uuid.into(),
        roles: BTreeMap::from([("orders".to_string(), role)]),
        checkpoints: BTreeMap::new(),
    })
}

struct Rig {
    fb: FailbackConfig,
    gate: Arc<Mutex<Gate>>,
    _gates: Gates,
}

impl Rig {
    fn new(rounds: u32) -> Rig {
        let gates = Gates::default();
        Rig {
            fb: fb(rounds),
            gate: gates.gate("dr", None),
            _gates: gates,
        }
    }

    fn round(&self, local: Role, peer: Result<Side, String>) -> Outcome {
        let mut g = self.gate.lock().unwrap();
        decide(&self.fb, &["orders".to_string()], &mut g, side("P", local), peer).0
    }
}

fn gate_code(o: &Outcome) -> f64 {
    o.facts.iter().find(|m| m.fact == Fact::EsDrGate).unwrap().value
}

#[test]
fn caught_up_secondary_passes_after_the_rounds_and_warns_before() {
    let rig = Rig::new(3);
    for i in 1..3 {
        let o = rig.round(Role::Leader, side("S", follower("primary", 0)));
        assert_eq!(o.status, Status::Warn, "{}", o.reason);
        assert!(
            o.reason.contains(&format!("caught up for {i} of 3 rounds")),
            "{}",
            o.reason
        );
    }
    let o = rig.round(Role::Leader, side("S", follower("primary", 0)));
    assert_eq!((o.status, gate_code(&o)), (Status::Pass, 0.0), "{}", o.reason);
}

#[test]
fn unprotected_cases_warn_and_name_the_cause() {
    let rig = Rig::new(1);
    let cases = [
        (
            side("S", follower("primary", 12)),
            "12 operations behind (max_lag_operations 0)",
        ),
        (side("S", Role::Missing), "does not exist on the secondary"),
        (side("S", follower("elsewhere", 0)), "a third cluster, not this one"),
        (
            Err("http://127.0.0.1:9201: connection refused".into()),
            "the secondary: http://127.0.0.1:9201: connection refused",
        ),
    ];
    for (peer, needle) in cases {
        let o = rig.round(Role::Leader, peer);
        assert_eq!((o.status, gate_code(&o)), (Status::Warn, 1.0), "{}", o.reason);
        assert!(o.reason.contains(needle), "{needle}: {}", o.reason);
    }
    let mut paused = follower("primary", 0);
    if let Role::Follower(f) = &mut paused {
        f.paused = true;
        f.stats = None;
    }
    let o = rig.round(Role::Leader, side("S", paused));
    assert!(o.reason.contains("paused follower"), "{}", o.reason);
}

#[test]
fn split_leaders_latch_until_the_switch_back_is_seen_caught_up() {
    let rig = Rig::new(2);
    let o = rig.round(Role::Leader, side("S", Role::Leader));
    assert_eq!((o.status, gate_code(&o)), (Status::Fail, 3.0));
    assert!(o.reason.contains("orders is a leader on both clusters"), "{}", o.reason);
    assert!(o.reason.contains("healthgate dr confirm"), "{}", o.reason);
    // Re-seeding: this cluster follows the secondary.
    let o = rig.round(follower("secondary", 5000), side("S", Role::Leader));
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.reason
            .contains("re-seeding from the secondary, 5000 operations behind"),
        "{}",
        o.reason
    );
    // Green and a leader again, the secondary not yet following: still latched.
    let o = rig.round(Role::Leader, side("S", Role::Leader));
    assert_eq!(gate_code(&o), 3.0);
    // The secondary follows, caught up: one round is not enough.
    let o = rig.round(Role::Leader, side("S", follower("primary", 0)));
    assert_eq!((o.status, gate_code(&o)), (Status::Fail, 3.0), "{}", o.reason);
    let o = rig.round(Role::Leader, side("S", follower("primary", 0)));
    assert_eq!((o.status, gate_code(&o)), (Status::Pass, 0.0), "{}", o.reason);
}

#[test]
// A plain test thread, no runtime: sleeping blocks nothing else.
#[allow(clippy::disallowed_methods)]
fn a_confirmation_opens_the_latch_and_expires() {
    let rig = Rig::new(1);
    rig.round(Role::Leader, side("S", Role::Leader));
    rig._gates
        .confirm(None, "writes replayed, ticket 1", Duration::from_millis(200))
        .unwrap();
    let o = rig.round(Role::Leader, side("S", Role::Leader));
    assert_eq!(o.status, Status::Warn, "{}", o.reason);
    assert!(o.reason.contains("an operator confirmed until"), "{}", o.reason);
    std::thread::sleep(Duration::from_millis(250));
    let o = rig.round(Role::Leader, side("S", Role::Leader));
    assert_eq!(gate_code(&o), 3.0, "{}", o.reason);
}

#[test]
fn another_cluster_behind_the_same_address_fails_until_confirmed() {
    let rig = Rig::new(1);
    assert_eq!(
        rig.round(Role::Leader, side("S", follower("primary", 0))).status,
        Status::Pass
    );
    let o = rig.round(Role::Leader, side("X", follower("primary", 0)));
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.reason
            .contains("the secondary is now cluster \"x\" (X), not the cluster seen before (S)"),
        "{}",
        o.reason
    );
    let o = rig.round(Role::Leader, side("P", follower("primary", 0)));
    assert!(
        o.reason.contains("urls and peer_urls reach the same cluster"),
        "{}",
        o.reason
    );
    rig._gates
        .confirm(Some("dr"), "the secondary was rebuilt", Duration::from_secs(60))
        .unwrap();
    assert_eq!(
        rig.round(Role::Leader, side("X", follower("primary", 0))).status,
        Status::Pass
    );
}

#[test]
fn local_problems_fail_without_latching() {
    let rig = Rig::new(1);
    let cases = [
        (Role::Missing, "orders does not exist on this cluster"),
        (follower("third", 0), "a third cluster, not the secondary"),
    ];
    for (local, needle) in cases {
        let o = rig.round(local, side("S", Role::Leader));
        assert_eq!((o.status, gate_code(&o)), (Status::Fail, 2.0), "{}", o.reason);
        assert!(o.reason.contains(needle), "{}", o.reason);
    }
}

#[test]
fn a_corrupt_or_foreign_state_file_closes_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gate.json");
    for (content, needle) in [
        ("{not json", "is not a healthgate DR gate file"),
        (
            r#"{"format":"healthgate-dr-gate/1","check":"other","clusters":{}}"#,
            "belongs to the check \"other\"",
        ),
        (r#"{"hello":"world"}"#, "is not a healthgate DR gate file"),
    ] {
        std::fs::write(&path, content).unwrap();
        let gates = Gates::default();
        let gate = gates.gate("dr", Some(&path));
        let mut g = gate.lock().unwrap();
        let o = decide(
            &fb(1),
            &["orders".into()],
            &mut g,
            side("P", Role::Leader),
            side("S", follower("primary", 5)),
        )
        .0;
        assert!(o.reason.contains(needle), "{}", o.reason);
        assert_eq!((o.status, gate_code(&o)), (Status::Fail, 3.0), "{}", o.reason);
        // A caught-up round is the switch back observed: it opens.
        let o = decide(
            &fb(1),
            &["orders".into()],
            &mut g,
            side("P", Role::Leader),
            side("S", follower("primary", 0)),
        )
        .0;
        assert_eq!(o.status, Status::Pass, "{}", o.reason);
        drop(g);
        let gate2 = Gates::default().gate("dr", Some(&path));
        assert!(
            gate2.lock().unwrap().latched().is_some(),
            "a fresh load of {content} latches"
        );
    }
}

#[test]
fn follow_info_fixtures_read_as_roles() {
    let active = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/es/ccr-info/elasticsearch-docs-follow_info-active.json"
    ));
    let paused = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/es/ccr-info/elasticsearch-docs-follow_info-paused.json"
    ));
    let (role, concrete) = super::read::role_in(active).unwrap();
    assert_eq!(concrete.as_deref(), Some("follower_index"));
    let Role::Follower(f) = role else { panic!("{role:?}") };
    assert_eq!(
        (f.remote.as_str(), f.leader_index.as_str(), f.paused),
        ("remote_cluster", "leader_index", false)
    );
    assert_eq!(f.read_poll_timeout, Duration::from_secs(60));
    let (role, concrete) = super::read::role_in(paused).unwrap();
    assert_eq!(concrete, None);
    assert!(matches!(role, Role::Follower(Follow { paused: true, .. })), "{role:?}");
    let (role, _) = super::read::role_in(br#"{"follower_indices":[]}"#).unwrap();
    assert_eq!(role, Role::Leader);
}

#[test]
fn lag_is_measured_against_the_leaders_own_checkpoint() {
    let rig = Rig::new(1);
    let mut primary = side("P", Role::Leader).unwrap();
    // The secondary's follower thinks it is caught up (its view of the leader
    // is 1000); the primary's own checkpoint is 1500.
    primary.checkpoints.insert("orders".into(), BTreeMap::from([(0, 1500)]));
    let mut g = rig.gate.lock().unwrap();
    let o = decide(
        &rig.fb,
        &["orders".into()],
        &mut g,
        Ok(primary.clone()),
        side("S", follower("primary", 0)),
    )
    .0;
    assert_eq!(o.status, Status::Warn, "{}", o.reason);
    assert!(
        o.reason.contains("is 500 operations behind (max_lag_operations 0)"),
        "{}",
        o.reason
    );
    let lag = o.facts.iter().find(|m| m.fact == Fact::EsDrPeerLagOperations).unwrap();
    assert_eq!(lag.value, 500.0);
    primary.checkpoints.insert("orders".into(), BTreeMap::from([(0, 1000)]));
    let o = decide(
        &rig.fb,
        &["orders".into()],
        &mut g,
        Ok(primary),
        side("S", follower("primary", 0)),
    )
    .0;
    assert_eq!(o.status, Status::Pass, "{}", o.reason);
}

#[test]
fn stats_fixture_shape_gives_the_primary_copies_checkpoints() {
    let body = br#"{"_shards":{"total":2,"successful":2,"failed":0},"indices":{"orders":{"uuid":"u","shards":{
        "0":[{"routing":{"state":"STARTED","primary":false,"node":"b"},"seq_no":{"max_seq_no":9,"local_checkpoint":9,"global_checkpoint":7}},
             {"routing":{"state":"STARTED","primary":true,"node":"a"},"seq_no":{"max_seq_no":9,"local_checkpoint":9,"global_checkpoint":8}}],
        "1":[{"routing":{"state":"STARTED","primary":true,"node":"a"},"seq_no":{"max_seq_no":3,"local_checkpoint":3,"global_checkpoint":3}}]}}}}"#;
    let cps = super::read::checkpoints_in(body).unwrap();
    assert_eq!(cps, BTreeMap::from([(0, 8), (1, 3)]));
    assert_eq!(super::read::checkpoints_in(b"{}"), None);
}
