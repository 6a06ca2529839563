//! The life of one HTTP connection as its watchdog sees it, and when it must be cut: pure,
//! with the time passed in. The connection's socket reports bytes read and writes that
//! block; the request shell reports requests starting and their responses ending.

use std::time::{Duration, Instant};

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No request in flight and no byte of the next one since `since`.
    Idle { since: Instant },
    /// The first byte of a request's headers arrived at `since`; the rest has not.
    Head { since: Instant },
    /// At least one request is being answered.
    Busy,
}

/// Why a connection is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Its request headers did not arrive whole in time (answered 408 before closing).
    HeaderTimeout,
    /// Kept alive with nothing to do for too long.
    Idle,
    /// The client stopped reading its response.
    WriteStall,
}

impl Cut {
    /// The words logged for it.
    pub fn describe(self) -> &'static str {
        match self {
            Cut::HeaderTimeout => "request headers too slow",
            Cut::Idle => "idle",
            Cut::WriteStall => "the client stopped reading its response",
        }
    }
}

/// The timeouts the clock judges by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From a request's first byte to its last header byte.
    pub header: Duration,
    /// With no request in flight.
    pub idle: Duration,
    /// A blocked write with no progress.
    pub write_stall: Duration,
}

/// One connection's clock.
#[derive(Debug, Clone)]
pub struct ConnectionClock {
    phase: Phase,
    in_flight: u32,
    write_blocked_since: Option<Instant>,
}

impl ConnectionClock {
    /// A connection accepted at `now`: its first request's headers are due from now on.
    pub fn new(now: Instant) -> Self {
        Self {
            phase: Phase::Head { since: now },
            in_flight: 0,
            write_blocked_since: None,
        }
    }

    /// Bytes arrived: when idle, the next request's headers have begun.
    pub fn on_read(&mut self, now: Instant) {
        if let Phase::Idle { .. } = self.phase {
            self.phase = Phase::Head { since: now };
        }
    }

    /// A request's headers were read whole; it is being answered.
    pub fn on_request(&mut self) {
        self.in_flight = self.in_flight.saturating_add(1);
        self.phase = Phase::Busy;
    }

    /// A response was sent whole (or abandoned).
    pub fn on_response_done(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0 {
            self.phase = Phase::Idle { since: now };
        }
    }

    /// A write could not go out: the client's window is full.
    pub fn on_write_blocked(&mut self, now: Instant) {
        self.write_blocked_since.get_or_insert(now);
    }

    /// A write went out.
    pub fn on_write_progress(&mut self) {
        self.write_blocked_since = None;
    }

    /// Whether the connection must be cut at `now`, and why.
    pub fn verdict(&self, now: Instant, timeouts: &Timeouts) -> Option<Cut> {
        let past = |since: Instant, limit: Duration| now.saturating_duration_since(since) >= limit;
        if let Some(since) = self.write_blocked_since
            && past(since, timeouts.write_stall)
        {
            return Some(Cut::WriteStall);
        }
        match self.phase {
            Phase::Head { since } if past(since, timeouts.header) => Some(Cut::HeaderTimeout),
            Phase::Idle { since } if past(since, timeouts.idle) => Some(Cut::Idle),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        idle: Duration::from_secs(60),
        write_stall: Duration::from_secs(30),
    };

    /// What happens to a connection, at seconds after its accept.
    #[derive(Clone, Copy)]
    enum Event {
        Read(u64),
        Request,
        Done(u64),
        Blocked(u64),
        Progress,
    }

    fn replay(events: &[Event]) -> (Instant, ConnectionClock) {
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        let mut clock = ConnectionClock::new(start);
        for event in events {
            match *event {
                Event::Read(t) => clock.on_read(at(t)),
                Event::Request => clock.on_request(),
                Event::Done(t) => clock.on_response_done(at(t)),
                Event::Blocked(t) => clock.on_write_blocked(at(t)),
                Event::Progress => clock.on_write_progress(),
            }
        }
        (start, clock)
    }

    #[test]
    fn connections_are_cut_only_for_their_own_slowness() {
        use Event::*;
        let cases: &[(&str, &[Event], u64, Option<Cut>)] = &[
            ("fresh, silent", &[], 9, None),
            ("fresh, silent too long", &[], 10, Some(Cut::HeaderTimeout)),
            (
                "slowloris",
                &[Read(1), Read(2), Read(5)],
                11,
                Some(Cut::HeaderTimeout),
            ),
            ("headers in time", &[Read(1), Request], 500, None),
            (
                "long answer",
                &[Read(1), Request, Blocked(2), Progress],
                500,
                None,
            ),
            (
                "slow reader",
                &[Read(1), Request, Blocked(2)],
                32,
                Some(Cut::WriteStall),
            ),
            (
                "slow reader, not yet",
                &[Read(1), Request, Blocked(2)],
                31,
                None,
            ),
            ("kept alive", &[Read(1), Request, Done(3)], 62, None),
            (
                "kept alive too long",
                &[Read(1), Request, Done(3)],
                63,
                Some(Cut::Idle),
            ),
            (
                "second request",
                &[Read(1), Request, Done(3), Read(40)],
                49,
                None,
            ),
            (
                "second request slow",
                &[Read(1), Request, Done(3), Read(40)],
                50,
                Some(Cut::HeaderTimeout),
            ),
            (
                "pipelined: one still in flight",
                &[Read(1), Request, Request, Done(3)],
                500,
                None,
            ),
            (
                "response done, its last bytes stuck",
                &[Read(1), Request, Blocked(2), Done(2)],
                32,
                Some(Cut::WriteStall),
            ),
        ];
        for (name, events, now, expected) in cases {
            let (start, clock) = replay(events);
            let now = start + Duration::from_secs(*now);
            assert_eq!(clock.verdict(now, &TIMEOUTS), *expected, "{name}");
        }
    }
}
