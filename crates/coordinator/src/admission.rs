//! Who may register, and how often: the identity proof's difficulty and the registration
//! limits per address and per network. Pure: the clock is passed in; the session asks
//! before anything is stored.
//!
//! Each registration takes a token from its IP's bucket and from its network's (IPv4 /24,
//! IPv6 /48, [`NetworkPrefix`]); with either empty it is refused with the time until both
//! have one again. Known nodes re-registering take tokens too (a node that reconnects in a
//! loop is throttled like a stranger), but only from their own address's and network's
//! buckets, so a flood from other networks never touches them.
//!
//! The buckets live in maps of at most `max_tracked` entries each, so a flood of addresses
//! cannot grow them without limit. A full bucket says no more than a missing one, so a full
//! map first forgets those; if every entry is still busy (thousands of networks registering
//! at once), strangers from a network not in the map are refused ("busy") while known nodes
//! pass untracked: the flood locks out neither.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use idleshare_protocol::net::NetworkPrefix;
use idleshare_protocol::proof::DEFAULT_ID_DIFFICULTY;

use crate::rate::TokenBucket;

/// How long an empty bucket takes to fill again (its burst is a minute's worth): by then a
/// full map has room again.
const FULL_REFILL: Duration = Duration::from_secs(60);

/// How hard registration is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmissionConfig {
    /// Leading zero bits a node's identity proof must have.
    pub id_difficulty: u8,
    /// Registrations per minute one IP address may make (also its burst).
    pub per_ip_per_minute: u32,
    /// Registrations per minute one network (/24, /48) may make (also its burst).
    pub per_network_per_minute: u32,
    /// Most addresses, and most networks, whose buckets are remembered.
    pub max_tracked: usize,
}

impl Default for AdmissionConfig {
    /// [`DEFAULT_ID_DIFFICULTY`]; 12 registrations a minute per IP (a household's nodes
    /// restarting together, with room to spare), 60 per network (an office or a small
    /// hosting range), 100,000 of each remembered (a few MiB at most).
    fn default() -> Self {
        Self {
            id_difficulty: DEFAULT_ID_DIFFICULTY,
            per_ip_per_minute: 12,
            per_network_per_minute: 60,
            max_tracked: 100_000,
        }
    }
}

/// Why a registration is refused for now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Throttle {
    /// The address or network used up its registrations.
    #[error("too many registrations from {scope}; retry in {:.1} s", retry_after.as_secs_f64())]
    Limited {
        /// The address or network, in words (`127.0.5.1` or `127.0.5.0/24`).
        scope: String,
        /// When a registration will be accepted again.
        retry_after: Duration,
    },
    /// Too many addresses are registering at once to track a new one.
    #[error(
        "the coordinator is admitting registrations from too many networks at once; \
         retry in {:.1} s",
        retry_after.as_secs_f64()
    )]
    Busy {
        /// A suggested wait.
        retry_after: Duration,
    },
}

impl Throttle {
    /// How long the node should wait.
    pub fn retry_after(&self) -> Duration {
        match self {
            Throttle::Limited { retry_after, .. } | Throttle::Busy { retry_after } => *retry_after,
        }
    }
}

/// The registration limiter.
#[derive(Debug)]
pub struct RegistrationLimiter {
    ips: Buckets<IpAddr>,
    networks: Buckets<NetworkPrefix>,
}

impl RegistrationLimiter {
    /// Empty buckets under `config`'s limits.
    pub fn new(config: &AdmissionConfig) -> Self {
        Self {
            ips: Buckets::new(config.per_ip_per_minute, config.max_tracked),
            networks: Buckets::new(config.per_network_per_minute, config.max_tracked),
        }
    }

    /// Admits one registration from `ip` at `now` (taking a token from its address and its
    /// network), or says how long to wait. `known`: the node is in the registry already.
    pub fn admit(&mut self, ip: IpAddr, known: bool, now: Instant) -> Result<(), Throttle> {
        let network = NetworkPrefix::of(ip);
        let ip_slot = self.ips.slot(ip, now);
        let network_slot = self.networks.slot(network, now);
        let (ip_slot, network_slot) = match (ip_slot, network_slot) {
            (Some(ip_slot), Some(network_slot)) => (ip_slot, network_slot),
            // Every tracked entry is busy: known nodes pass, strangers wait.
            _ if known => return Ok(()),
            _ => {
                return Err(Throttle::Busy {
                    retry_after: FULL_REFILL,
                });
            }
        };
        let ip_wait = self.ips.wait(ip_slot, now);
        let network_wait = self.networks.wait(network_slot, now);
        if ip_wait.is_zero() && network_wait.is_zero() {
            self.ips.take(ip_slot, now);
            self.networks.take(network_slot, now);
            return Ok(());
        }
        let scope = if network_wait > ip_wait {
            network.to_string()
        } else {
            ip.to_string()
        };
        Err(Throttle::Limited {
            scope,
            retry_after: ip_wait.max(network_wait),
        })
    }

    /// Addresses and networks remembered (for tests and metrics).
    pub fn tracked(&self) -> (usize, usize) {
        (self.ips.map.len(), self.networks.map.len())
    }
}

/// Token buckets by key, at most `max` of them.
#[derive(Debug)]
struct Buckets<K> {
    map: HashMap<K, TokenBucket>,
    per_minute: u32,
    max: usize,
}

impl<K: Hash + Eq + Copy> Buckets<K> {
    fn new(per_minute: u32, max: usize) -> Self {
        Self {
            map: HashMap::new(),
            per_minute: per_minute.max(1),
            max: max.max(1),
        }
    }

    /// `key`'s bucket, made if there is room (forgetting full buckets first when the map
    /// is full); `None` when every remembered bucket is still refilling.
    fn slot(&mut self, key: K, now: Instant) -> Option<K> {
        if self.map.contains_key(&key) {
            return Some(key);
        }
        if self.map.len() >= self.max {
            self.map.retain(|_, bucket| !bucket.is_full(now));
        }
        if self.map.len() >= self.max {
            return None;
        }
        let rate = f64::from(self.per_minute) / 60.0;
        self.map
            .insert(key, TokenBucket::new(rate, self.per_minute, now));
        Some(key)
    }

    fn wait(&self, key: K, now: Instant) -> Duration {
        self.map
            .get(&key)
            .map_or(Duration::ZERO, |bucket| bucket.time_until_token(now))
    }

    fn take(&mut self, key: K, now: Instant) {
        if let Some(bucket) = self.map.get_mut(&key) {
            bucket.try_take(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(per_ip: u32, per_network: u32, max_tracked: usize) -> AdmissionConfig {
        AdmissionConfig {
            id_difficulty: 0,
            per_ip_per_minute: per_ip,
            per_network_per_minute: per_network,
            max_tracked,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn limits_table() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        // (address, known, time ms, admitted, refusal names)
        let cases: &[(&str, bool, u64, bool, &str)] = &[
            ("127.0.5.1", false, 0, true, ""),
            ("127.0.5.1", false, 0, true, ""),
            // The address has used its 2 a minute.
            ("127.0.5.1", false, 0, false, "127.0.5.1"),
            // Known or not, it counts.
            ("127.0.5.1", true, 0, false, "127.0.5.1"),
            // A neighbour in the same /24 has its own address bucket...
            ("127.0.5.2", false, 0, true, ""),
            // ...but the network's 3 a minute are spent.
            ("127.0.5.3", false, 0, false, "127.0.5.0/24"),
            // Another network is untouched by the flood.
            ("127.0.6.1", true, 0, true, ""),
            ("2001:db8:1:2::1", false, 0, true, ""),
            ("2001:db8:1:3::1", false, 0, true, ""),
            ("2001:db8:1:4::1", false, 0, true, ""),
            ("2001:db8:1:5::1", false, 0, false, "2001:db8:1::/48"),
            // After 30 s the address has one token again, and the network one too.
            ("127.0.5.1", false, 30_000, true, ""),
            ("127.0.5.2", false, 30_000, false, "127.0.5.0/24"),
        ];
        let mut limiter = RegistrationLimiter::new(&config(2, 3, 100));
        for (index, (address, known, ms, admitted, names)) in cases.iter().enumerate() {
            let result = limiter.admit(ip(address), *known, at(*ms));
            assert_eq!(result.is_ok(), *admitted, "case {index}: {result:?}");
            if let Err(refusal) = result {
                let text = refusal.to_string();
                assert!(text.contains(&format!("from {names};")), "{index}: {text}");
                assert!(refusal.retry_after() > Duration::ZERO);
            }
        }
    }

    #[test]
    fn the_retry_hint_is_when_a_token_is_back() {
        let now = Instant::now();
        let mut limiter = RegistrationLimiter::new(&config(1, 100, 10));
        limiter.admit(ip("192.0.2.1"), false, now).unwrap();
        let refusal = limiter.admit(ip("192.0.2.1"), false, now).unwrap_err();
        assert_eq!(refusal.retry_after(), Duration::from_secs(60));
        let later = now + Duration::from_secs(60);
        assert!(limiter.admit(ip("192.0.2.1"), false, later).is_ok());
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded_and_locks_out_no_known_node() {
        let now = Instant::now();
        let mut limiter = RegistrationLimiter::new(&config(1, 1, 50));
        // 10,000 distinct networks, each registering once: every bucket is refilling.
        for i in 0..10_000u32 {
            let [_, _, b, c] = i.to_be_bytes();
            let address = IpAddr::from([10, b, c, 1]);
            let _ = limiter.admit(address, false, now);
            let (ips, networks) = limiter.tracked();
            assert!(ips <= 50 && networks <= 50, "{ips} {networks}");
        }
        // A known node from a network not in the map still registers...
        assert!(limiter.admit(ip("198.51.100.7"), true, now).is_ok());
        // ...a stranger is told to come back.
        let busy = limiter.admit(ip("198.51.100.8"), false, now).unwrap_err();
        assert!(matches!(busy, Throttle::Busy { .. }), "{busy:?}");
        // Once the flood's buckets are full again they are forgotten and room returns.
        let later = now + Duration::from_secs(61);
        assert!(limiter.admit(ip("198.51.100.8"), false, later).is_ok());
        assert!(limiter.tracked().0 <= 50);
    }
}
