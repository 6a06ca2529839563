use chrono::{TimeZone, Utc};
use idleshare_node::settings::SettingsStore;

use super::*;
use crate::overview::{
    CacheView, ContributionState, Gauges, JobCounts, NetworkGauge, NetworkInfo, Overview,
    PercentGauge, TokenCounts,
};

fn store() -> (tempfile::TempDir, SettingsStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SettingsStore::open(dir.path().join("settings.toml")).unwrap();
    (dir, store)
}

fn on_disk(store: &SettingsStore) -> idleshare_node::settings::Settings {
    SettingsStore::open(store.path()).unwrap().current()
}

#[test]
fn every_menu_id_maps_back_to_its_action() {
    for action in TrayAction::ALL {
        assert_eq!(TrayAction::from_id(action.id()), Some(action));
    }
    assert_eq!(TrayAction::from_id("status"), None);
}

#[test]
fn the_contribute_item_flips_the_master_switch_and_saves_it() {
    let (_dir, store) = store();
    let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
    let outcome = handle(TrayAction::ToggleContributing, &store, &now).unwrap();
    let TrayOutcome::SettingsChanged(settings) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(!settings.contribution.enabled);
    assert!(!on_disk(&store).contribution.enabled);
    handle(TrayAction::ToggleContributing, &store, &now).unwrap();
    assert!(on_disk(&store).contribution.enabled);
}

#[test]
fn snooze_one_hour_ends_an_hour_from_now() {
    let (_dir, store) = store();
    let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
    handle(TrayAction::SnoozeHour, &store, &now).unwrap();
    let until = Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap();
    assert_eq!(
        on_disk(&store).contribution.snooze_until_ms,
        Some(until.timestamp_millis() as u64)
    );
}

#[test]
fn snooze_until_tomorrow_ends_at_eight_next_morning() {
    let (_dir, store) = store();
    let now = Utc.with_ymd_and_hms(2026, 3, 10, 19, 0, 0).unwrap();
    handle(TrayAction::SnoozeUntilTomorrow, &store, &now).unwrap();
    let until = Utc.with_ymd_and_hms(2026, 3, 11, 8, 0, 0).unwrap();
    assert_eq!(
        on_disk(&store).contribution.snooze_until_ms,
        Some(until.timestamp_millis() as u64)
    );
}

#[test]
fn open_and_quit_change_no_setting() {
    let (_dir, store) = store();
    let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
    assert_eq!(
        handle(TrayAction::OpenDashboard, &store, &now).unwrap(),
        TrayOutcome::OpenDashboard
    );
    assert_eq!(
        handle(TrayAction::Quit, &store, &now).unwrap(),
        TrayOutcome::Quit
    );
    assert!(!store.path().exists(), "nothing was written");
}

#[test]
fn a_settings_file_that_cannot_be_written_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // The settings "file" is a directory: the atomic write fails.
    let path = dir.path().join("settings.toml");
    std::fs::create_dir(&path).unwrap();
    let store = SettingsStore::with_settings(&path, Default::default());
    let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
    let error = handle(TrayAction::SnoozeHour, &store, &now).unwrap_err();
    assert!(matches!(error, AppError::Io { .. }), "{error:?}");
    assert_eq!(store.current().contribution.snooze_until_ms, None);
}

fn overview(state: ContributionState, today: u64, contributing: bool) -> Overview {
    let zero = PercentGauge {
        owner_percent: 0.0,
        contributed_percent: 0.0,
    };
    Overview {
        state,
        reason: "Contributing 1 core while you are away".into(),
        contributing,
        snoozed_until_ms: None,
        network: NetworkInfo {
            local: true,
            coordinator: String::new(),
            connected: true,
            last_error: None,
        },
        gauges: Gauges {
            cpu: zero,
            memory: zero,
            gpu: None,
            network: NetworkGauge {
                owner_bytes_per_sec: 0,
                contributed_bytes_per_sec: 0,
            },
        },
        jobs: JobCounts {
            held: 0,
            reported: 0,
            abandoned: 0,
        },
        tokens: TokenCounts {
            today,
            total: today,
        },
        cache: CacheView::from(&Default::default()),
    }
}

#[test]
fn the_tooltip_says_state_and_todays_tokens() {
    let look = tray_look(&overview(ContributionState::Contributing, 1_234_567, true));
    assert_eq!(look.state, ContributionState::Contributing);
    assert_eq!(
        look.tooltip,
        "Idleshare: Contributing · 1.23 tokens today\nContributing 1 core while you are away"
    );
    assert!(look.contribute_checked);
    let look = tray_look(&overview(ContributionState::Paused, 0, false));
    assert!(
        look.tooltip
            .starts_with("Idleshare: Paused · 0 tokens today")
    );
    assert!(!look.contribute_checked);
}

#[test]
fn tokens_read_well_at_every_size() {
    assert_eq!(format_tokens(0), "0");
    assert_eq!(format_tokens(4_200), "0.0042");
    assert_eq!(format_tokens(999_999), "0.999999");
    assert_eq!(format_tokens(1_000_000), "1.00");
    assert_eq!(format_tokens(2_996_000), "3.00");
    assert_eq!(format_tokens(12_345_678_901), "12345.68");
}

#[test]
fn each_state_has_its_own_png_icon() {
    let states = [
        ContributionState::Contributing,
        ContributionState::Waiting,
        ContributionState::Paused,
        ContributionState::Offline,
    ];
    for (i, a) in states.iter().enumerate() {
        assert!(icon_png(*a).starts_with(b"\x89PNG"));
        for b in &states[i + 1..] {
            assert_ne!(icon_png(*a), icon_png(*b));
        }
    }
}
