//! Which heartbeats await an acknowledgement, and when the coordinator counts as gone.
//! Pure: the caller passes the times.
//!
//! A heartbeat goes out every interval, and one more whenever the node's activity changes.
//! The deadline runs from the *oldest* unacknowledged heartbeat: a burst of activity
//! changes must never keep pushing the deadline out while a dead coordinator stays silent.

use std::time::{Duration, Instant};

/// Heartbeats sent and not yet acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unacked {
    newest: Option<(u64, Instant)>,
    oldest_sent: Option<Instant>,
}

impl Unacked {
    /// Records heartbeat `seq` sent at `now`.
    pub fn sent(&mut self, seq: u64, now: Instant) {
        self.newest = Some((seq, now));
        self.oldest_sent.get_or_insert(now);
    }

    /// Records an acknowledgement; returns the round trip when it acknowledges the newest.
    pub fn acked(&mut self, seq: u64, now: Instant) -> Option<Duration> {
        let (newest, sent) = self.newest?;
        if seq == newest {
            *self = Self::default();
            Some(now.saturating_duration_since(sent))
        } else if seq < newest {
            // The coordinator is alive; only the newest is still outstanding.
            self.oldest_sent = Some(sent);
            None
        } else {
            None
        }
    }

    /// Whether nothing is outstanding (the regular beat waits for this).
    pub fn is_empty(&self) -> bool {
        self.newest.is_none()
    }

    /// When the coordinator counts as gone, if anything is outstanding.
    pub fn deadline(&self, ack_within: Duration) -> Option<Instant> {
        self.oldest_sent.map(|sent| sent + ack_within)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_heartbeats_does_not_push_the_deadline_out() {
        let start = Instant::now();
        let within = Duration::from_secs(3);
        let mut unacked = Unacked::default();
        for (seq, after) in [(1, 0), (2, 1), (3, 2), (4, 3)] {
            unacked.sent(seq, start + Duration::from_secs(after));
        }
        assert_eq!(unacked.deadline(within), Some(start + within));
    }

    #[test]
    fn acks_clear_or_move_the_deadline_and_measure_the_round_trip() {
        let start = Instant::now();
        let within = Duration::from_secs(3);
        let mut unacked = Unacked::default();
        assert!(unacked.is_empty() && unacked.deadline(within).is_none());
        unacked.sent(1, start);
        unacked.sent(2, start + Duration::from_secs(1));
        // An older ack proves the coordinator alive: only the newest remains due.
        assert_eq!(unacked.acked(1, start + Duration::from_secs(2)), None);
        assert_eq!(
            unacked.deadline(within),
            Some(start + Duration::from_secs(4))
        );
        // A stray future seq changes nothing.
        assert_eq!(unacked.acked(9, start), None);
        let rtt = unacked.acked(2, start + Duration::from_millis(1500));
        assert_eq!(rtt, Some(Duration::from_millis(500)));
        assert!(unacked.is_empty() && unacked.deadline(within).is_none());
    }
}
