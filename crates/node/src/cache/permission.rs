//! Whether the node may serve or fill its cache now: a pure reading of the policy's latest
//! decision, so a paused node answers "busy" at once and fills wait for an open network
//! schedule.

use idleshare_protocol::NodeActivity;

/// What the policy allows the cache right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NetworkPermission {
    /// Network work may run, within these caps (bytes per second; `None` uncapped).
    Open {
        /// Upload cap.
        upload: Option<u64>,
        /// Download cap.
        download: Option<u64>,
    },
    /// Not now; the reason is told to clients (and shown in logs).
    Closed(String),
}

/// Reads the permission off the activity the node reports.
pub(crate) fn network_permission(activity: &NodeActivity) -> NetworkPermission {
    match activity {
        NodeActivity::Contributing { budget } if budget.network => NetworkPermission::Open {
            upload: budget.upload_bytes_per_sec,
            download: budget.download_bytes_per_sec,
        },
        NodeActivity::Contributing { .. } => {
            NetworkPermission::Closed("network sharing is off or outside its schedule".into())
        }
        NodeActivity::Paused { reason } => NetworkPermission::Closed(format!("paused: {reason}")),
        NodeActivity::Starting => NetworkPermission::Closed("starting up".into()),
    }
}

#[cfg(test)]
mod tests {
    use idleshare_protocol::Budget;

    use super::*;

    #[test]
    fn only_a_contributing_node_with_network_allowed_serves() {
        let budget = Budget {
            network: true,
            upload_bytes_per_sec: Some(1000),
            ..Budget::default()
        };
        assert_eq!(
            network_permission(&NodeActivity::Contributing { budget }),
            NetworkPermission::Open {
                upload: Some(1000),
                download: None
            }
        );
        let closed = [
            NodeActivity::Contributing {
                budget: Budget {
                    network: false,
                    ..budget
                },
            },
            NodeActivity::Paused {
                reason: "you are using the computer".into(),
            },
            NodeActivity::Starting,
        ];
        for activity in closed {
            assert!(
                matches!(network_permission(&activity), NetworkPermission::Closed(_)),
                "{activity}"
            );
        }
        assert_eq!(
            network_permission(&NodeActivity::Paused {
                reason: "on battery".into()
            }),
            NetworkPermission::Closed("paused: on battery".into())
        );
    }
}
