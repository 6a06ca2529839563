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
        id_difficulty: 25,
    };
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["id_difficulty"], 25);
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
    let view = OperatorNodeView {
        id: node_id(2),
        state: NodeState::Online,
        activity: "paused".into(),
        pause_reason: Some("on battery".into()),
        budget: None,
        capabilities: Capabilities::default(),
        first_seen_ms: 3_600_001,
        last_seen_ms: 7_300_000,
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
    let back: OperatorNodeView = serde_json::from_value(json).unwrap();
    assert_eq!(back, view);
}

#[test]
fn the_public_view_hides_where_a_node_is_and_whether_its_owner_is_away() {
    let operator = OperatorNodeView {
        id: node_id(2),
        state: NodeState::Online,
        activity: "contributing".into(),
        pause_reason: Some("user active".into()),
        budget: None,
        capabilities: Capabilities::default(),
        first_seen_ms: 3_600_001,
        last_seen_ms: 7_300_000,
        remote_addr: "192.0.2.7:5000".into(),
        reputation: Reputation::default(),
    };
    let json = serde_json::to_value(operator.public()).unwrap();
    let text = json.to_string();
    for hidden in [
        "remote_addr",
        "192.0.2.7",
        "activity",
        "pause_reason",
        "budget",
    ] {
        assert!(!text.contains(hidden), "{hidden} in {text}");
    }
    assert_eq!(json["first_seen_ms"], 3_600_000);
    assert_eq!(json["last_seen_ms"], 7_200_000);
    assert_eq!(json["state"], "online");
}

#[test]
fn node_state_labels_read_back_and_unknown_reads_offline() {
    for state in [NodeState::Online, NodeState::Offline] {
        assert_eq!(NodeState::from_label(state.label()), state);
    }
    assert_eq!(NodeState::from_label("lost"), NodeState::Offline);
}
