use chrono::NaiveDate;
use idleshare_node::policy::{Decision, PauseReason};
use idleshare_protocol::Budget;

use super::*;
use crate::preferences::Notifications;

const MINUTE: u64 = 60_000;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn input(now_ms: u64, decision: Option<&Decision>) -> NoticeInput<'_> {
    NoticeInput {
        now_ms,
        local_date: day(10),
        local_minute: 12 * 60,
        connected: true,
        decision,
        balance: 0,
        today: 0,
    }
}

fn kinds(notices: &[Notice]) -> Vec<NoticeKind> {
    notices.iter().map(|n| n.kind).collect()
}

fn all() -> Notifications {
    Notifications::default()
}

#[test]
fn a_battery_pause_is_told_once_per_episode() {
    let mut watch = NoticeWatch::new(None);
    let battery = Decision::Paused {
        reason: PauseReason::OnBattery,
    };
    let run = Decision::Run {
        budget: Budget::default(),
    };
    assert!(watch.observe(&input(0, Some(&run)), &all()).is_empty());
    let told = watch.observe(&input(1000, Some(&battery)), &all());
    assert_eq!(kinds(&told), vec![NoticeKind::PausedForBatteryOrHeat]);
    assert!(
        told[0].body.contains("running on battery"),
        "{}",
        told[0].body
    );
    assert!(
        watch
            .observe(&input(2000, Some(&battery)), &all())
            .is_empty()
    );
    watch.observe(&input(3000, Some(&run)), &all());
    assert_eq!(watch.observe(&input(4000, Some(&battery)), &all()).len(), 1);
}

#[test]
fn heat_after_battery_is_a_new_episode_but_owner_pauses_are_not_told() {
    let mut watch = NoticeWatch::new(None);
    let battery = Decision::Paused {
        reason: PauseReason::OnBattery,
    };
    let hot = Decision::Paused {
        reason: PauseReason::GpuTooHot {
            celsius: 90,
            limit: 80,
        },
    };
    let owner = Decision::Paused {
        reason: PauseReason::OwnerActive {
            idle_secs: 1,
            required_secs: 180,
        },
    };
    assert!(watch.observe(&input(0, Some(&owner)), &all()).is_empty());
    assert_eq!(watch.observe(&input(1, Some(&battery)), &all()).len(), 1);
    assert_eq!(watch.observe(&input(2, Some(&hot)), &all()).len(), 1);
}

#[test]
fn the_coordinator_unreachable_for_five_minutes_is_told_once_per_outage() {
    let mut watch = NoticeWatch::new(None);
    let offline = |now| NoticeInput {
        connected: false,
        ..input(now, None)
    };
    assert!(watch.observe(&offline(0), &all()).is_empty());
    assert!(watch.observe(&offline(5 * MINUTE - 1), &all()).is_empty());
    let told = watch.observe(&offline(5 * MINUTE), &all());
    assert_eq!(kinds(&told), vec![NoticeKind::CoordinatorUnreachable]);
    assert!(watch.observe(&offline(30 * MINUTE), &all()).is_empty());
    // Back, then gone again: a new outage, a new clock.
    watch.observe(&input(31 * MINUTE, None), &all());
    assert!(watch.observe(&offline(32 * MINUTE), &all()).is_empty());
    assert_eq!(watch.observe(&offline(37 * MINUTE), &all()).len(), 1);
}

#[test]
fn first_tokens_are_told_only_when_the_wallet_started_empty() {
    let mut fresh = NoticeWatch::new(None);
    assert!(fresh.observe(&input(0, None), &all()).is_empty());
    let earned = NoticeInput {
        balance: 4_200,
        ..input(1, None)
    };
    assert_eq!(
        kinds(&fresh.observe(&earned, &all())),
        vec![NoticeKind::FirstTokens]
    );
    let more = NoticeInput {
        balance: 9_000,
        ..input(2, None)
    };
    assert!(fresh.observe(&more, &all()).is_empty());

    let mut seasoned = NoticeWatch::new(None);
    assert!(seasoned.observe(&earned, &all()).is_empty());
    assert!(seasoned.observe(&more, &all()).is_empty());
}

#[test]
fn the_daily_summary_comes_once_from_eight_pm_on_days_with_earnings() {
    let mut watch = NoticeWatch::new(Some(day(9)));
    let at = |date, minute, today| NoticeInput {
        local_date: date,
        local_minute: minute,
        today,
        balance: 5_000_000,
        ..input(0, None)
    };
    assert!(
        watch
            .observe(&at(day(10), SUMMARY_MINUTE - 1, 2_000_000), &all())
            .is_empty()
    );
    let told = watch.observe(&at(day(10), SUMMARY_MINUTE, 2_000_000), &all());
    assert_eq!(kinds(&told), vec![NoticeKind::DailySummary]);
    assert_eq!(told[0].body, "You earned 2.00 tokens today (5.00 in all).");
    assert!(
        watch
            .observe(&at(day(10), 23 * 60, 2_500_000), &all())
            .is_empty()
    );
    assert_eq!(watch.last_summary(), Some(day(10)));
    // A day without earnings: nothing, and it is not retried later that day.
    assert!(
        watch
            .observe(&at(day(11), SUMMARY_MINUTE, 0), &all())
            .is_empty()
    );
    assert!(watch.observe(&at(day(11), 22 * 60, 0), &all()).is_empty());
}

#[test]
fn a_summary_already_sent_before_a_restart_is_not_sent_again() {
    let mut watch = NoticeWatch::new(Some(day(10)));
    let evening = NoticeInput {
        local_minute: 21 * 60,
        today: 1_000_000,
        ..input(0, None)
    };
    assert!(watch.observe(&evening, &all()).is_empty());
}

#[test]
fn switched_off_kinds_are_tracked_but_not_shown() {
    let mut watch = NoticeWatch::new(None);
    let none = Notifications {
        paused_for_battery_or_heat: false,
        coordinator_unreachable: false,
        first_tokens: false,
        daily_summary: false,
    };
    let battery = Decision::Paused {
        reason: PauseReason::OnBattery,
    };
    assert!(watch.observe(&input(0, Some(&battery)), &none).is_empty());
    // Switching the kind on mid-episode does not fire the old episode.
    assert!(watch.observe(&input(1, Some(&battery)), &all()).is_empty());
}
