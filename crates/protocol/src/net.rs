//! Networks, as the coordinator counts them against Sybils: one IPv4 /24 or one IPv6 /48
//! is treated as one owner (a home, a small office, one hosting customer). Replicas of a
//! unit never share one, registrations are rate-limited per one, pins spread across them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The network an address belongs to: its IPv4 /24 or its IPv6 /48 (an IPv4-mapped IPv6
/// address counts as the IPv4 address it maps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetworkPrefix {
    /// The first three octets of an IPv4 address.
    V4([u8; 3]),
    /// The first three 16-bit groups of an IPv6 address.
    V6([u16; 3]),
}

impl NetworkPrefix {
    /// The network of `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::v4(v4),
                None => {
                    let s = v6.segments();
                    Self::V6([s[0], s[1], s[2]])
                }
            },
        }
    }

    fn v4(ip: Ipv4Addr) -> Self {
        let [a, b, c, _] = ip.octets();
        Self::V4([a, b, c])
    }
}

impl fmt::Display for NetworkPrefix {
    /// `192.0.2.0/24` or `2001:db8:1::/48`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V4([a, b, c]) => write!(f, "{}/24", Ipv4Addr::new(*a, *b, *c, 0)),
            Self::V6([a, b, c]) => write!(f, "{}/48", Ipv6Addr::new(*a, *b, *c, 0, 0, 0, 0, 0)),
        }
    }
}

/// Text that is not a network prefix as [`NetworkPrefix`] prints one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a network like 192.0.2.0/24 or 2001:db8:1::/48")]
pub struct BadNetworkPrefix(pub String);

impl std::str::FromStr for NetworkPrefix {
    type Err = BadNetworkPrefix;

    /// Reads what `Display` writes: `A.B.C.0/24` or `X:Y:Z::/48`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadNetworkPrefix(text.to_owned());
        let (address, bits) = text.split_once('/').ok_or_else(bad)?;
        let ip: IpAddr = address.parse().map_err(|_| bad())?;
        let prefix = Self::of(ip);
        let expected = match prefix {
            Self::V4(_) => "24",
            Self::V6(_) => "48",
        };
        (bits == expected && prefix.to_string() == text)
            .then_some(prefix)
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_table() {
        // (address, its network)
        let cases = [
            ("192.0.2.7", "192.0.2.0/24"),
            ("192.0.2.250", "192.0.2.0/24"),
            ("127.1.2.3", "127.1.2.0/24"),
            ("::ffff:192.0.2.9", "192.0.2.0/24"),
            ("2001:db8:1:2::5", "2001:db8:1::/48"),
            ("2001:db8:1:ffff::1", "2001:db8:1::/48"),
        ];
        for (ip, net) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(NetworkPrefix::of(ip).to_string(), net, "{ip}");
        }
        for text in ["192.0.2.0/24", "2001:db8:1::/48"] {
            assert_eq!(text.parse::<NetworkPrefix>().unwrap().to_string(), text);
        }
        for text in [
            "192.0.2.7/24",
            "192.0.2.0/16",
            "nonsense",
            "2001:db8:1::/24",
        ] {
            assert!(text.parse::<NetworkPrefix>().is_err(), "{text}");
        }
        let a = NetworkPrefix::of("127.0.1.1".parse().unwrap());
        let b = NetworkPrefix::of("127.0.2.1".parse().unwrap());
        assert_ne!(a, b);
    }
}
