use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::checks::Fact;
use crate::config::StatusCodes;
use crate::snapshot::Presentation;
use crate::status::Status;

fn text(m: &Metrics) -> String {
    let how = Presentation {
        codes: StatusCodes {
            pass: 200,
            warn: 200,
            fail: 503,
        },
        agent: Default::default(),
    };
    String::from_utf8(m.encode(&Snapshot::build(0, Vec::new(), None, &how))).unwrap()
}

/// Asserts that the exposition has `line` exactly.
fn has(text: &str, line: &str) {
    assert!(text.lines().any(|l| l == line), "no line {line:?} in:\n{text}");
}

/// The lines of `family` for check `a`, without the HELP/TYPE lines.
fn lines(text: &str, family: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")) && l.contains("check=\"a\""))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_checks_series_from_declaration_to_removal() {
    let m = Metrics::new();
    let name: Arc<str> = "a".into();
    let mut series = m.declare_check(&name, true, Duration::from_secs(7), Some(3), &[]);
    let t = text(&m);
    // Declared: unknown, every outcome counter at 0, no transition yet, and no
    // fact gauge the check has not reported.
    has(&t, r#"healthgate_check_status{check="a",state="unknown"} 1"#);
    has(&t, r#"healthgate_check_status{check="a",state="pass"} 0"#);
    assert_eq!(lines(&t, "healthgate_check_runs_total").len(), 5, "{t}");
    assert!(lines(&t, "healthgate_check_last_transition_timestamp_seconds").is_empty());
    assert!(lines(&t, "healthgate_es_nodes").is_empty());
    has(&t, r#"healthgate_es_expected_nodes{check="a"} 3"#);

    let mut o = Outcome::new(Status::Warn, "yellow");
    o.measure(Fact::EsNodes, 2.0);
    o.measure_of(Fact::EsIndexStatus, "logs", 1.0);
    m.record_run(&mut series, &o, 0.004, 0);
    m.record_run(&mut series, &o, 0.004, 0);
    m.record_transition(&mut series, State::Known(Status::Warn));
    let t = text(&m);
    has(&t, r#"healthgate_check_runs_total{check="a",outcome="warn"} 2"#);
    has(&t, r#"healthgate_check_duration_seconds_count{check="a"} 2"#);
    has(&t, r#"healthgate_es_nodes{check="a"} 2"#);
    has(&t, r#"healthgate_es_index_status{check="a",index="logs"} 1"#);
    has(&t, r#"healthgate_check_status{check="a",state="warn"} 1"#);
    has(&t, r#"healthgate_check_status{check="a",state="unknown"} 0"#);
    has(&t, r#"healthgate_check_transitions_total{check="a"} 1"#);
    assert_eq!(lines(&t, "healthgate_check_last_transition_timestamp_seconds").len(), 1);

    m.forget_check("a", &[]);
    let t = text(&m);
    assert!(!t.contains(r#"check="a""#), "{t}");
}
