//! Settings: defaults, validation naming each key, the TOML file, and the live store.

use std::path::{Path, PathBuf};

use super::*;
use crate::policy::WeeklySchedule;

fn temp_settings_path() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config").join("settings.toml");
    (dir, path)
}

fn parse_error(text: &str) -> SettingsError {
    match parse(text, Path::new("settings.toml")) {
        Ok(settings) => panic!("{text:?} should be rejected, got {settings:?}"),
        Err(error) => error,
    }
}

/// Settings with every value changed from its default.
fn customised() -> Settings {
    let mut settings = Settings::default();
    settings.contribution.enabled = false;
    settings.contribution.snooze_until_ms = Some(1_704_283_200_000);
    settings.policy = PolicySettings {
        input_idle_secs: 10,
        owner_cpu_pause_percent: 40,
        owner_cpu_pause_after_secs: 5,
        owner_cpu_resume_percent: 20,
        owner_cpu_resume_after_secs: 60,
        pause_on_battery: false,
        pause_on_fullscreen: false,
        cpu_max_celsius: 90,
        gpu_max_celsius: 75,
        thermal_resume_margin_celsius: 8,
        min_free_memory_percent: 20,
    };
    settings.budget = BudgetSettings {
        max_cores: Some(6),
        max_cpu_percent_per_core: 50,
        max_memory_percent: 30,
        gpu_enabled: false,
        upload_cap_kib_per_sec: Some(256),
        download_cap_kib_per_sec: Some(4096),
        cache_disk_quota_mib: 2048,
    };
    let compute = WeeklySchedule::parse(&["mon-fri 18:00-08:00", "sat-sun 00:00-24:00"]);
    settings.schedule.compute = compute.expect("valid");
    settings.schedule.network = WeeklySchedule { windows: vec![] };
    settings
}

#[test]
fn defaults_are_valid_and_as_documented() {
    let settings = Settings::default();
    assert_eq!(settings.validate(), Ok(()));
    assert!(settings.contribution.enabled);
    assert_eq!(settings.contribution.snooze_until_ms, None);
    let p = &settings.policy;
    assert_eq!(p.input_idle_secs, 180);
    let owner_cpu = (p.owner_cpu_pause_percent, p.owner_cpu_pause_after_secs);
    assert_eq!(owner_cpu, (25, 2));
    let resume = (p.owner_cpu_resume_percent, p.owner_cpu_resume_after_secs);
    assert_eq!(resume, (15, 30));
    assert!(p.pause_on_battery && p.pause_on_fullscreen);
    let heat = (
        p.cpu_max_celsius,
        p.gpu_max_celsius,
        p.thermal_resume_margin_celsius,
    );
    assert_eq!(heat, (85, 80, 5));
    assert_eq!(p.min_free_memory_percent, 10);
    let b = &settings.budget;
    assert_eq!(
        (
            b.max_cores,
            b.max_cpu_percent_per_core,
            b.max_memory_percent
        ),
        (None, 100, 50)
    );
    assert!(b.gpu_enabled);
    assert_eq!(
        (b.upload_cap_kib_per_sec, b.download_cap_kib_per_sec),
        (None, None)
    );
    assert_eq!(b.cache_disk_quota_mib, 10 * 1024);
    assert_eq!(settings.schedule.compute, WeeklySchedule::always());
    assert_eq!(settings.schedule.network, WeeklySchedule::always());
}

#[test]
fn a_missing_file_means_defaults() {
    let (_dir, path) = temp_settings_path();
    assert_eq!(load(&path).expect("defaults"), Settings::default());
    assert_eq!(
        SettingsStore::open(&path).expect("defaults").current(),
        Settings::default()
    );
    assert!(!path.exists(), "opening writes nothing");
}

#[test]
fn an_empty_or_partial_file_fills_in_defaults() {
    let settings = parse("", Path::new("s.toml")).expect("empty file is valid");
    assert_eq!(settings, Settings::default());
    let text = "[policy]\ninput_idle_secs = 5\n";
    let settings = parse(text, Path::new("s.toml")).expect("partial file is valid");
    let mut expected = Settings::default();
    expected.policy.input_idle_secs = 5;
    assert_eq!(settings, expected);
}

#[test]
fn save_then_load_round_trips_every_value() {
    let (dir, path) = temp_settings_path();
    for settings in [Settings::default(), customised()] {
        save(&path, &settings).expect("save");
        assert_eq!(load(&path).expect("load"), settings);
        let text = to_toml(&settings).expect("encode");
        assert_eq!(parse(&text, &path).expect("reparse"), settings);
    }
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
        .expect("list")
        .filter_map(|entry| entry.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("settings.toml")],
        "no temp file left"
    );
    drop(dir);
}

#[test]
fn saved_text_uses_human_schedule_strings() {
    let text = to_toml(&customised()).expect("encode");
    assert!(text.contains("\"mon-fri 18:00-08:00\""), "{text}");
    assert!(text.contains("network = []"), "{text}");
    assert!(text.starts_with("# Idleshare settings."), "{text}");
    let defaults = to_toml(&Settings::default()).expect("encode");
    assert!(
        !defaults.contains("max_cores"),
        "absent options stay absent: {defaults}"
    );
}

#[test]
fn each_out_of_range_value_is_named_with_its_key() {
    #[rustfmt::skip]
    let cases = [
        ("[policy]\ninput_idle_secs = 86401", "policy.input_idle_secs = 86401 is out of range 0..=86400"),
        ("[policy]\nowner_cpu_pause_percent = 250", "policy.owner_cpu_pause_percent = 250 is out of range 1..=100"),
        ("[policy]\nowner_cpu_pause_percent = 0\nowner_cpu_resume_percent = 0", "policy.owner_cpu_pause_percent = 0 is out of range 1..=100"),
        ("[policy]\nowner_cpu_pause_after_secs = 3601", "policy.owner_cpu_pause_after_secs = 3601 is out of range 0..=3600"),
        ("[policy]\nowner_cpu_resume_percent = 101", "policy.owner_cpu_resume_percent = 101 is out of range 0..=100"),
        ("[policy]\nowner_cpu_resume_after_secs = 86401", "policy.owner_cpu_resume_after_secs = 86401 is out of range 0..=86400"),
        ("[policy]\ncpu_max_celsius = 120", "policy.cpu_max_celsius = 120 is out of range 40..=110"),
        ("[policy]\ngpu_max_celsius = 39", "policy.gpu_max_celsius = 39 is out of range 40..=110"),
        ("[policy]\nthermal_resume_margin_celsius = 31", "policy.thermal_resume_margin_celsius = 31 is out of range 0..=30"),
        ("[policy]\nmin_free_memory_percent = 91", "policy.min_free_memory_percent = 91 is out of range 0..=90"),
        ("[budget]\nmax_cores = 0", "budget.max_cores = 0 is out of range 1..=65536"),
        ("[budget]\nmax_cpu_percent_per_core = 0", "budget.max_cpu_percent_per_core = 0 is out of range 1..=100"),
        ("[budget]\nmax_memory_percent = 101", "budget.max_memory_percent = 101 is out of range 1..=100"),
        ("[budget]\nupload_cap_kib_per_sec = 0", "budget.upload_cap_kib_per_sec = 0 is out of range 1..=10000000"),
        ("[budget]\ndownload_cap_kib_per_sec = 10000001", "budget.download_cap_kib_per_sec = 10000001 is out of range 1..=10000000"),
        ("[budget]\ncache_disk_quota_mib = 16777217", "budget.cache_disk_quota_mib = 16777217 is out of range 0..=16777216"),
        ("[policy]\nowner_cpu_resume_percent = 30", "policy.owner_cpu_resume_percent = 30 must not be above policy.owner_cpu_pause_percent = 25"),
    ];
    for (text, expected) in cases {
        let error = parse_error(text);
        assert!(
            matches!(error, SettingsError::Invalid { .. }),
            "{text:?}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("settings.toml: {expected}"),
            "{text:?}"
        );
    }
}

#[test]
fn validate_reports_every_bad_key_at_once_in_table_order() {
    let error = parse_error(
        "[policy]\nowner_cpu_pause_percent = 0\nowner_cpu_resume_percent = 50\n\
         [budget]\nmax_memory_percent = 101\n",
    );
    let SettingsError::Invalid { source, .. } = error else {
        panic!("{error:?}")
    };
    let keys: Vec<_> = source.problems.iter().map(InvalidSetting::key).collect();
    // The resume threshold is not also compared with a pause threshold out of its range.
    assert_eq!(
        keys,
        [
            "policy.owner_cpu_pause_percent",
            "budget.max_memory_percent"
        ]
    );
    assert_eq!(
        source.to_string(),
        "policy.owner_cpu_pause_percent = 0 is out of range 1..=100; \
         budget.max_memory_percent = 101 is out of range 1..=100"
    );
}

#[test]
fn every_range_rule_is_what_the_file_check_enforces_at_both_ends() {
    // Driven by the table the app exports to its form: each key accepts min and max and
    // rejects one past either end, naming that key.
    for rule in RANGE_RULES {
        let (section, field) = rule.key.split_once('.').expect("section.key");
        // Keep the hysteresis rule out of the way (resume at 0, pause at 100) unless the key
        // under test is one of them.
        let hysteresis = [
            ("owner_cpu_resume_percent", 0),
            ("owner_cpu_pause_percent", 100),
        ];
        let policy: String = hysteresis
            .iter()
            .filter(|(name, _)| (section, *name) != ("policy", field))
            .map(|(name, value)| format!("{name} = {value}\n"))
            .collect();
        let text = |value: u64| {
            let own = format!("{field} = {value}\n");
            if section == "policy" {
                format!("[policy]\n{policy}{own}")
            } else {
                format!("[policy]\n{policy}[{section}]\n{own}")
            }
        };
        for value in [rule.min, rule.max] {
            let settings = parse(&text(value), Path::new("settings.toml"));
            assert!(settings.is_ok(), "{} = {value}: {settings:?}", rule.key);
            assert_eq!(rule.value(&settings.unwrap()), Some(value), "{}", rule.key);
        }
        let outside = [rule.min.checked_sub(1), rule.max.checked_add(1)];
        for value in outside.into_iter().flatten() {
            let SettingsError::Invalid { source, .. } = parse_error(&text(value)) else {
                panic!("{} = {value} should be out of range", rule.key)
            };
            assert_eq!(
                source.problems,
                [InvalidSetting::OutOfRange {
                    key: rule.key,
                    value,
                    min: rule.min,
                    max: rule.max,
                }]
            );
        }
    }
}

#[test]
fn an_optional_range_rule_accepts_an_absent_value_and_a_required_one_has_one() {
    let defaults = Settings::default();
    for rule in RANGE_RULES {
        assert_eq!(
            rule.value(&defaults).is_none(),
            rule.optional,
            "{}",
            rule.key
        );
    }
}

#[test]
fn the_not_above_rule_names_both_keys() {
    let mut settings = Settings::default();
    settings.policy.owner_cpu_resume_percent = 30;
    let rule = NOT_ABOVE_RULES[0];
    assert_eq!(
        settings.validate().unwrap_err().problems,
        [InvalidSetting::AboveOther {
            key: rule.key,
            value: 30,
            bound_key: rule.bound_key,
            bound: 25,
        }]
    );
}

/// (file text, expected key, expected position, text the message must contain)
type ParseCase = (&'static str, &'static str, (usize, usize), &'static str);

#[test]
fn unknown_keys_wrong_types_and_bad_schedules_name_the_key_and_position() {
    #[rustfmt::skip]
    let cases: [ParseCase; 6] = [
        ("colour = \"red\"\n", "colour", (1, 1), "unknown key `colour`"),
        ("[policy]\ninput_idle_secs = 3\nidle_minutes = 5\n", "policy.idle_minutes", (3, 1), "unknown key `idle_minutes`"),
        ("[extras]\na = 1\n", "extras", (1, 2), "unknown key `extras`"),
        ("[policy]\ninput_idle_secs = \"three\"\n", "policy.input_idle_secs", (2, 19), "invalid type"),
        ("[policy]\nowner_cpu_pause_percent = -5\n", "policy.owner_cpu_pause_percent", (2, 27), "-5"),
        ("[schedule]\ncompute = [\n  \"mon-fri 18:00-08:00\",\n  \"mon-fry 18:00-08:00\",\n]\n",
            "schedule.compute", (2, 11), "\"mon-fry 18:00-08:00\": `fry` is not a day"),
    ];
    for (text, expected_key, (line, column), fragment) in cases {
        let error = parse_error(text);
        let SettingsError::Parse {
            at, key, message, ..
        } = &error
        else {
            panic!("{text:?} should be a parse error, got {error:?}");
        };
        assert_eq!(key.as_deref(), Some(expected_key), "{text:?}: {error}");
        assert_eq!(
            *at,
            Some(TextPosition { line, column }),
            "{text:?}: {error}"
        );
        assert!(message.contains(fragment), "{text:?}: {message}");
        let shown = error.to_string();
        let prefix = format!("settings.toml:{line}:{column}: {expected_key}: ");
        assert!(shown.starts_with(&prefix), "{shown}");
    }
}

#[test]
fn a_syntax_error_gives_line_and_column() {
    let error = parse_error("[policy]\ninput_idle_secs = = 3\n");
    let SettingsError::Parse { at, key, .. } = &error else {
        panic!("expected a parse error, got {error:?}");
    };
    assert_eq!(
        *at,
        Some(TextPosition {
            line: 2,
            column: 19
        }),
        "{error}"
    );
    assert_eq!(*key, None);
}

#[test]
fn an_unreadable_file_is_a_read_error_not_defaults() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A directory where the file should be cannot be read as text.
    let error = load(dir.path()).expect_err("a directory is not a settings file");
    assert!(matches!(error, SettingsError::Read { .. }), "{error:?}");
}

#[test]
fn save_refuses_invalid_settings_and_keeps_the_old_file() {
    let (_dir, path) = temp_settings_path();
    save(&path, &customised()).expect("save");
    let mut bad = customised();
    bad.budget.max_memory_percent = 0;
    let error = save(&path, &bad).expect_err("invalid settings");
    assert!(
        error.to_string().contains("budget.max_memory_percent = 0"),
        "{error}"
    );
    assert_eq!(load(&path).expect("old file intact"), customised());
}

#[test]
fn snooze_sets_and_clears_the_end_time() {
    let mut settings = Settings::default();
    settings.snooze(2, 1_000);
    assert_eq!(
        settings.contribution.snooze_until_ms,
        Some(1_000 + 2 * 3_600_000)
    );
    settings.snooze(0, 5_000);
    assert_eq!(settings.contribution.snooze_until_ms, None);
    settings.snooze(u32::MAX, u64::MAX - 1);
    assert_eq!(settings.contribution.snooze_until_ms, Some(u64::MAX));
}

#[test]
fn store_update_validates_then_persists_then_publishes() {
    let (_dir, path) = temp_settings_path();
    let store = SettingsStore::open(&path).expect("open");
    let mut receiver = store.subscribe();

    let updated = store
        .update(|s| s.policy.input_idle_secs = 7)
        .expect("valid update");
    assert_eq!(updated.policy.input_idle_secs, 7);
    assert!(receiver.has_changed().expect("store alive"), "published");
    assert_eq!(receiver.borrow_and_update().policy.input_idle_secs, 7);
    assert_eq!(load(&path).expect("persisted").policy.input_idle_secs, 7);

    let error = store
        .update(|s| s.policy.owner_cpu_pause_percent = 250)
        .expect_err("invalid update");
    assert!(
        error
            .to_string()
            .contains("policy.owner_cpu_pause_percent = 250"),
        "{error}"
    );
    assert!(
        !receiver.has_changed().expect("store alive"),
        "nothing published"
    );
    assert_eq!(store.current().policy.owner_cpu_pause_percent, 25);
    assert_eq!(
        load(&path).expect("file").policy.owner_cpu_pause_percent,
        25
    );

    let snoozed = store.snooze(1, 10_000).expect("snooze");
    assert_eq!(snoozed.contribution.snooze_until_ms, Some(3_610_000));
    assert_eq!(
        SettingsStore::open(&path).expect("reopen").current(),
        snoozed
    );
}

#[test]
fn reload_publishes_hand_edits_and_keeps_the_old_settings_on_a_bad_edit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("settings.toml");
    let store = SettingsStore::open(&path).expect("defaults");
    let mut receiver = store.subscribe();
    assert!(
        !store.reload().expect("no file is defaults"),
        "nothing changed"
    );
    std::fs::write(&path, "[contribution]\nenabled = false\n").expect("write");
    assert!(store.reload().expect("valid edit"));
    assert!(!receiver.borrow_and_update().contribution.enabled);
    std::fs::write(&path, "[policy]\nowner_cpu_pause_percent = 0\n").expect("write");
    let error = store.reload().expect_err("invalid edit");
    assert!(
        error.to_string().contains("policy.owner_cpu_pause_percent"),
        "{error}"
    );
    assert!(
        !store.current().contribution.enabled,
        "old settings stay in force"
    );
}
