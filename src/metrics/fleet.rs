//! The fleet's series: members by state, the quorum, peers answering, the
//! shared outages, the regional status and peer reads. No per-peer label: a
//! fleet of a thousand is a handful of series.

use prometheus::{IntCounterVec, IntGauge, IntGaugeVec};

use super::{counter_vec, int_gauge_vec, Reg};

/// One round's figures, as the fleet poller hands them over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetFigures<'a> {
    /// Members serving by their own checks (this one included).
    pub serving: usize,
    /// Members answering and not serving.
    pub not_serving: usize,
    /// Members without a recent answer.
    pub unreachable: usize,
    /// Members that must serve for the regional answer to pass.
    pub required: usize,
    /// Peers with a recent answer.
    pub answering: usize,
    /// The regional answer.
    pub pass: bool,
    /// Each shared check and whether it is in a shared outage.
    pub shared: Vec<(&'a str, bool)>,
}

/// The fleet families.
pub(super) struct FleetSeries {
    members: IntGaugeVec,
    required: IntGauge,
    answering: IntGauge,
    status: IntGaugeVec,
    shared_outage: IntGaugeVec,
    reads: IntCounterVec,
    shared_seen: std::sync::Mutex<Vec<String>>,
}

impl FleetSeries {
    pub(super) fn declare(r: &mut Reg) -> FleetSeries {
        let members = int_gauge_vec(
            r,
            "healthgate_fleet_members",
            "Fleet members by state (serving, not_serving, unreachable), this instance included.",
            &["state"],
        );
        let required = IntGauge::new(
            "healthgate_fleet_members_required",
            "Members that must be serving for the regional answer (/fleet) to pass (fleet.min_healthy).",
        )
        .expect("valid metric definition");
        r.add(&required);
        let answering = IntGauge::new("healthgate_fleet_peers_answering", "Peers with a recent answer.")
            .expect("valid metric definition");
        r.add(&answering);
        let status = int_gauge_vec(
            r,
            "healthgate_fleet_status",
            "The regional answer of /fleet (1 for the current state: pass or fail).",
            &["state"],
        );
        let shared_outage = int_gauge_vec(
            r,
            "healthgate_fleet_shared_outage",
            "1 while a shared check fails on at least fleet.shared_quorum of the peers (the guard holds it).",
            &["check"],
        );
        let reads = counter_vec(
            r,
            "healthgate_fleet_peer_reads_total",
            "Reads of peers' /fleet/self, by result (ok, error).",
            &["result"],
        );
        FleetSeries {
            members,
            required,
            answering,
            status,
            shared_outage,
            reads,
            shared_seen: Default::default(),
        }
    }

    pub(super) fn record(&self, f: &FleetFigures) {
        for (state, n) in [
            ("serving", f.serving),
            ("not_serving", f.not_serving),
            ("unreachable", f.unreachable),
        ] {
            self.members.with_label_values(&[state]).set(n as i64);
        }
        self.required.set(f.required as i64);
        self.answering.set(f.answering as i64);
        self.status.with_label_values(&["pass"]).set(i64::from(f.pass));
        self.status.with_label_values(&["fail"]).set(i64::from(!f.pass));
        let mut seen = self.shared_seen.lock().unwrap_or_else(|e| e.into_inner());
        for old in seen.iter() {
            if !f.shared.iter().any(|(c, _)| c == old) {
                let _ = self.shared_outage.remove_label_values(&[old]);
            }
        }
        seen.clear();
        for (check, engaged) in &f.shared {
            self.shared_outage.with_label_values(&[check]).set(i64::from(*engaged));
            seen.push(check.to_string());
        }
    }

    pub(super) fn read(&self, ok: bool) {
        self.reads.with_label_values(&[if ok { "ok" } else { "error" }]).inc();
    }
}
