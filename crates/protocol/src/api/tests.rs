use super::*;
use crate::receipt::{CreditRate, ServingRate};
use crate::{Capabilities, CoordinatorAddress, NodeId};

fn node_id(seed: u8) -> NodeId {
    NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key())
}

#[test]
fn coordinator_info_keeps_its_address_as_text_and_round_trips() {
    let key = node_id(1);
    let address: CoordinatorAddress = format!("{key}@127.0.0.1:7380").parse().unwrap();
    let info = CoordinatorInfo {
        address: address.clone(),
        key,
        protocol_version: 3,
        heartbeat_interval_ms: 5_000,
        credit_rate: CreditRate {
            micro_tokens_per_megafuel: 7,
        },
        serving_rate: ServingRate {
            micro_tokens_per_gib: 9,
        },
        max_publish_bytes: 1 << 30,
        replicas: 2,
        fee_bps: 500,
        storage_rate: crate::receipt::StorageRate {
            micro_tokens_per_gib_day: 11,
        },
        storage_period_ms: 3_600_000,
    };
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["address"], format!("{key}@127.0.0.1:7380"));
    assert_eq!(json["key"], key.to_string());
    assert_eq!(json["credit_rate"]["micro_tokens_per_megafuel"], 7);
    let back: CoordinatorInfo = serde_json::from_value(json).unwrap();
    assert_eq!(back, info);
}

#[test]
fn a_malformed_coordinator_address_is_refused_when_read() {
    let key = node_id(1);
    let json = serde_json::json!({
        "address": "no-at-sign",
        "key": key.to_string(),
        "protocol_version": 1,
        "heartbeat_interval_ms": 1,
        "credit_rate": { "micro_tokens_per_megafuel": 1 },
        "serving_rate": { "micro_tokens_per_gib": 1 },
        "max_publish_bytes": 1,
        "replicas": 1,
    });
    let error = serde_json::from_value::<CoordinatorInfo>(json).unwrap_err();
    assert!(error.to_string().contains("'@'"), "{error}");
}

#[test]
fn a_node_view_shows_its_id_as_text_and_its_state_as_a_word() {
    let view = NodeView {
        id: node_id(2),
        state: NodeState::Online,
        activity: "paused".into(),
        pause_reason: Some("on battery".into()),
        budget: None,
        capabilities: Capabilities::default(),
        first_seen_ms: 1,
        last_seen_ms: 2,
        remote_addr: "127.0.0.1:5000".into(),
        reputation: Reputation {
            consecutive_valid: 3,
            valid: 4,
            invalid: 1,
        },
    };
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["id"], node_id(2).to_string());
    assert_eq!(json["state"], "online");
    let back: NodeView = serde_json::from_value(json).unwrap();
    assert_eq!(back, view);
}

#[test]
fn node_state_labels_read_back_and_unknown_reads_offline() {
    for state in [NodeState::Online, NodeState::Offline] {
        assert_eq!(NodeState::from_label(state.label()), state);
    }
    assert_eq!(NodeState::from_label("lost"), NodeState::Offline);
}
