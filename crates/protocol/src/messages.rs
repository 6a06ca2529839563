//! Session messages on the node↔coordinator control stream.
//!
//! A session goes: node → [`NodeMessage::Hello`] (versions and claimed id), node →
//! [`NodeMessage::Register`] (capabilities and identity proof), coordinator →
//! [`CoordinatorMessage::Welcome`] (or [`CoordinatorMessage::ProofRequired`] /
//! [`CoordinatorMessage::Throttled`], after which the node comes back);
//! then node heartbeats, each answered by an ack, until either side says goodbye. Any
//! violation is answered with [`CoordinatorMessage::Error`] carrying an [`ErrorCode`].
//!
//! [`Hello`] is frozen: its encoding never changes between protocol versions, so a
//! coordinator of any version can read it and refuse an unsupported version politely.

use serde::{Deserialize, Serialize};

use crate::bounds::{BoundsError, check_len};
use crate::cache::{PinOrder, PinOutcome, SignedServiceReceipt};
use crate::content::ContentId;
use crate::ids::NodeId;
use crate::job::LeaseId;
use crate::proof::IdentityProof;
use crate::receipt::SignedReceipt;
use crate::work::Assignment;

/// Longest text field accepted in a message (capabilities, reasons), in bytes.
pub const MAX_TEXT_LEN: usize = 512;
/// Most GPUs a node may list.
pub const MAX_GPUS: usize = 16;

/// The first message of every session. Frozen across protocol versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Every protocol version the node speaks.
    pub versions: Vec<u16>,
    /// The id the node claims; must equal the key of its TLS client certificate.
    pub node_id: NodeId,
}

/// What a node offers the network, sent at registration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// CPU brand string, e.g. "AMD Ryzen 7 5800X".
    pub cpu_model: String,
    /// Logical CPU cores.
    pub cpu_cores: u32,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// Operating system name and version, e.g. "Debian GNU/Linux 12".
    pub os: String,
    /// CPU architecture, e.g. "x86_64".
    pub arch: String,
    /// The node software's version.
    pub agent_version: String,
    /// Graphics adapters, by name (every vendor; empty when there are none).
    #[serde(default)]
    pub gpus: Vec<String>,
    /// Scores from the node's hardware benchmark, once it has run.
    #[serde(default)]
    pub hardware: Option<HardwareScores>,
    /// The latest bandwidth test against the coordinator.
    #[serde(default)]
    pub bandwidth: Option<BandwidthReport>,
    /// UDP port of the node's own cache endpoint, if it listens (the coordinator pairs it
    /// with the address it sees and checks it can connect before telling clients).
    #[serde(default)]
    pub cache_port: Option<u16>,
}

/// Results of the hardware benchmark a node runs on first start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardwareScores {
    /// Integer operations, in millions per second on one core.
    pub cpu_int_mops: u64,
    /// Floating-point operations, in millions per second on one core.
    pub cpu_float_mflops: u64,
    /// Memory copy bandwidth in MB/s.
    pub memory_mb_per_sec: u64,
}

/// A bandwidth test against the coordinator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandwidthReport {
    /// Download (coordinator → node) in kbit/s.
    pub download_kbps: u64,
    /// Upload (node → coordinator) in kbit/s.
    pub upload_kbps: u64,
    /// Round-trip time in microseconds.
    pub rtt_us: u64,
    /// When it was measured (Unix ms).
    pub measured_at_ms: u64,
}

/// What the contribution policy lets the network use right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// CPU cores work may occupy.
    pub cores: u32,
    /// Share of each granted core work may use, in percent (1–100).
    pub cpu_percent: u8,
    /// Memory work may use, in bytes.
    pub memory_bytes: u64,
    /// Whether GPU work may run.
    pub gpu: bool,
    /// Whether network work (cache serving and filling) may run.
    pub network: bool,
    /// Upload cap in bytes per second (`None` = uncapped).
    pub upload_bytes_per_sec: Option<u64>,
    /// Download cap in bytes per second (`None` = uncapped).
    pub download_bytes_per_sec: Option<u64>,
    /// Disk space the cache may use, in bytes.
    pub cache_disk_bytes: u64,
}

impl Capabilities {
    /// Checks that every text field is within [`MAX_TEXT_LEN`].
    pub fn validate(&self) -> Result<(), BoundsError> {
        for (name, value) in [
            ("capability cpu_model", &self.cpu_model),
            ("capability os", &self.os),
            ("capability arch", &self.arch),
            ("capability agent_version", &self.agent_version),
        ]
        .into_iter()
        .chain(self.gpus.iter().map(|gpu| ("capability gpus", gpu)))
        {
            check_len(name, value, MAX_TEXT_LEN)?;
        }
        Ok(())
    }
}

/// What a node is doing, reported in every heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeActivity {
    /// The node has not decided yet (its first sample is pending).
    Starting,
    /// The owner is away: the node takes work within this budget.
    Contributing {
        /// What work may use.
        budget: Budget,
    },
    /// Not contributing now; the reason is for people.
    Paused {
        /// Why, in words the UI can show.
        reason: String,
    },
}

impl std::fmt::Display for NodeActivity {
    /// One line for people: `contributing: 2 core(s) at 100%, GPU no, network yes`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let yes_no = |flag: bool| if flag { "yes" } else { "no" };
        match self {
            NodeActivity::Starting => f.write_str("starting"),
            NodeActivity::Contributing { budget } => write!(
                f,
                "contributing: {} core(s) at {}%, GPU {}, network {}",
                budget.cores,
                budget.cpu_percent,
                yes_no(budget.gpu),
                yes_no(budget.network)
            ),
            NodeActivity::Paused { reason } => write!(f, "paused: {reason}"),
        }
    }
}

impl NodeActivity {
    /// A short lowercase label: `starting`, `contributing` or `paused`.
    pub fn label(&self) -> &'static str {
        match self {
            NodeActivity::Starting => "starting",
            NodeActivity::Contributing { .. } => "contributing",
            NodeActivity::Paused { .. } => "paused",
        }
    }

    /// The budget, when contributing.
    pub fn budget(&self) -> Option<&Budget> {
        match self {
            NodeActivity::Contributing { budget } => Some(budget),
            _ => None,
        }
    }

    /// The reason, when paused.
    pub fn pause_reason(&self) -> Option<&str> {
        match self {
            NodeActivity::Paused { reason } => Some(reason),
            _ => None,
        }
    }
}

/// Messages a node sends on its control stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeMessage {
    /// First frame: versions and claimed id.
    Hello(Hello),
    /// Second frame: what this node offers, and the work spent on its id.
    Register {
        /// Hardware and software description.
        capabilities: Capabilities,
        /// The identity proof of work (see [`crate::proof`]); a node that has none yet
        /// sends nonce 0 and is told the difficulty.
        proof: IdentityProof,
    },
    /// Periodic liveness and state report.
    Heartbeat {
        /// Sequence number, echoed in the ack.
        seq: u64,
        /// Current activity.
        activity: NodeActivity,
    },
    /// Newer capabilities (for example after a bandwidth test).
    UpdateCapabilities {
        /// The full, current description.
        capabilities: Capabilities,
    },
    /// The node can take this many more units now (it replaces the previous count).
    WantWork {
        /// Free slots.
        slots: u32,
    },
    /// The node gives a lease back unfinished (deadline passed, stopping); the unit goes to
    /// another node.
    Abandon {
        /// The lease.
        lease: LeaseId,
        /// Why, for logs and job status.
        reason: String,
    },
    /// Send me my receipts from this sequence number on (after a reconnect, or a gap).
    SyncReceipts {
        /// The first sequence number the node lacks.
        from_seq: u64,
    },
    /// Content this node holds, complete and verified (sent after registration, in frames of
    /// at most [`crate::cache::MAX_INVENTORY`]; `last` marks the final frame).
    CacheInventory {
        /// Content ids.
        contents: Vec<ContentId>,
        /// Whether this is the last frame of the inventory.
        last: bool,
    },
    /// What became of a pin order, or of content held.
    PinReport {
        /// The content.
        content: ContentId,
        /// Stored, failed or dropped.
        outcome: PinOutcome,
    },
    /// Receipts clients signed for bytes this node served (at most
    /// [`crate::cache::MAX_RECEIPTS_PER_FRAME`]).
    ServiceReceipts(Vec<SignedServiceReceipt>),
    /// The node is leaving on purpose.
    Goodbye {
        /// Why, for logs.
        reason: String,
    },
}

/// Accepted registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The negotiated protocol version.
    pub version: u16,
    /// The node id as the coordinator recorded it.
    pub node_id: NodeId,
    /// How often the node must heartbeat, in milliseconds.
    pub heartbeat_interval_ms: u32,
    /// When the coordinator first saw this node (Unix ms); survives restarts.
    pub first_seen_ms: u64,
}

/// Why the coordinator refused or ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// No protocol version in common.
    UnsupportedVersion,
    /// The claimed node id differs from the TLS certificate's key.
    IdentityMismatch,
    /// A frame could not be decoded.
    MalformedFrame,
    /// A frame exceeded the size limit.
    FrameTooLarge,
    /// A valid message arrived at the wrong point of the session.
    UnexpectedMessage,
    /// Capabilities or other content failed validation.
    InvalidContent,
    /// Too many frames per second.
    RateLimited,
    /// The coordinator is at its connection limit.
    TooManyConnections,
    /// The coordinator is shutting down.
    ShuttingDown,
    /// Something failed inside the coordinator.
    Internal,
    /// The identity proof of work is below the coordinator's difficulty (the refusal is
    /// sent as [`CoordinatorMessage::ProofRequired`]).
    WeakIdentityProof,
    /// Too many registrations from this address or network (the refusal is sent as
    /// [`CoordinatorMessage::Throttled`]).
    Throttled,
}

/// Messages a coordinator sends on a node's control stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoordinatorMessage {
    /// Registration accepted.
    Welcome(Welcome),
    /// Answer to a heartbeat.
    HeartbeatAck {
        /// The heartbeat's sequence number.
        seq: u64,
    },
    /// The session is refused or ended because of an error.
    Error {
        /// Machine-readable reason.
        code: ErrorCode,
        /// Human-readable detail.
        message: String,
    },
    /// A unit to run.
    Assign(Box<Assignment>),
    /// Stop working on a lease: its unit is settled or cancelled.
    Revoke {
        /// The lease.
        lease: LeaseId,
    },
    /// A credit for validated work or bytes served.
    Receipt(Box<SignedReceipt>),
    /// Keep a copy of this content.
    Pin(Box<PinOrder>),
    /// Stop keeping this content.
    Unpin {
        /// The content.
        content: ContentId,
    },
    /// The coordinator is leaving on purpose (for example shutting down).
    Goodbye {
        /// Why, for logs.
        reason: String,
    },
    /// Registration refused: the identity proof is weaker than this coordinator requires.
    /// The node computes one of `required_bits` and registers again at once.
    ProofRequired {
        /// Leading zero bits the proof must have.
        required_bits: u8,
        /// Human-readable detail.
        message: String,
    },
    /// Registration refused for now: too many registrations from the node's address or
    /// network. The node waits at least `retry_after_ms` before it tries again.
    Throttled {
        /// How long to wait before the next attempt, in milliseconds.
        retry_after_ms: u64,
        /// Human-readable detail.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_reads_as_one_line_for_people() {
        let budget = Budget {
            cores: 2,
            cpu_percent: 50,
            network: true,
            ..Budget::default()
        };
        let lines = [
            (NodeActivity::Starting, "starting"),
            (
                NodeActivity::Contributing { budget },
                "contributing: 2 core(s) at 50%, GPU no, network yes",
            ),
            (
                NodeActivity::Paused {
                    reason: "running on battery".into(),
                },
                "paused: running on battery",
            ),
        ];
        for (activity, line) in lines {
            assert_eq!(activity.to_string(), line);
        }
    }

    #[test]
    fn oversized_capability_text_is_named() {
        let caps = Capabilities {
            os: "x".repeat(MAX_TEXT_LEN + 1),
            ..Capabilities::default()
        };
        assert_eq!(caps.validate().unwrap_err().field(), "capability os");
        assert!(Capabilities::default().validate().is_ok());
    }
}
