//! The desktop app in a real window (Xvfb + tauri-driver + WebKitWebDriver): it launches on
//! the dashboard of the embedded local network and earns; the contribute switch pauses and
//! resumes it; a setting survives a restart; start-at-login writes and removes the XDG
//! entry; a screenshot of each page is saved to `target/screenshots/`. While the dashboard
//! is drawn, the app process itself has no GL driver loaded (its web process draws).
//!
//! Skipped when Xvfb, tauri-driver or WebKitWebDriver is missing, unless
//! `IDLESHARE_REQUIRE_XVFB=1` (scripts/test.sh), which makes them fail instead.

mod support;

use std::time::Duration;

use support::{
    Desktop, Profile, chart_earned, click, element, end_session, eventually, open_page, screenshot,
    serial, text_of, tokens_total,
};

/// How long the local network may take to pay the first tokens.
const EARNING: Duration = Duration::from_secs(120);

#[tokio::test]
async fn the_dashboard_shows_the_local_network_earning_and_every_page_is_shot() {
    let _one = serial().await;
    let profile = Profile::contributing_at_once();
    let Some(desktop) = Desktop::start(&profile) else {
        return;
    };
    let client = desktop.launch().await;

    element(&client, "[data-page=\"dashboard\"]").await;
    let label = element(&client, "[data-testid=\"network-label\"]").await;
    let label = label.text().await.expect("network label");
    assert!(label.contains("Local network"), "network label: {label:?}");

    let first = eventually("the first tokens", EARNING, || async {
        tokens_total(&client).await.filter(|micro| *micro > 0)
    })
    .await;
    let state = text_of(&client, "[data-testid=\"state\"]").await;
    assert!(state.contains("Contributing"), "state: {state:?}");
    let risen = eventually("the token counter to rise", EARNING, || async {
        tokens_total(&client).await.filter(|micro| *micro > first)
    })
    .await;
    // Everything was earned today, so the 7-day chart catches up with the counter.
    eventually(
        "the earnings chart to follow",
        support::PATIENCE,
        || async { chart_earned(&client).await.filter(|micro| *micro >= risen) },
    )
    .await;
    screenshot(&client, "dashboard").await;
    for pid in support::app_pids(&profile) {
        let drivers = support::gl_driver_mappings(pid);
        assert!(
            drivers.is_empty(),
            "the app process (not its web process) loaded GL drivers: {drivers:?}"
        );
    }

    open_page(&client, "earnings").await;
    click(&client, "[data-testid=\"verify\"]").await;
    let verified = eventually("the wallet check", support::PATIENCE, || async {
        Some(text_of(&client, "[data-testid=\"verify-result\"]").await).filter(|t| !t.is_empty())
    })
    .await;
    assert!(verified.contains("verified"), "verify result: {verified:?}");
    screenshot(&client, "earnings").await;

    open_page(&client, "settings").await;
    screenshot(&client, "settings").await;

    open_page(&client, "node").await;
    let node_id = element(&client, "[data-testid=\"node-id\"]").await;
    assert!(!node_id.text().await.expect("node id").trim().is_empty());
    screenshot(&client, "node").await;

    end_session(client, &profile).await;
}

#[tokio::test]
async fn the_contribute_switch_pauses_and_resumes_the_node() {
    let _one = serial().await;
    let profile = Profile::contributing_at_once();
    let Some(desktop) = Desktop::start(&profile) else {
        return;
    };
    let client = desktop.launch().await;

    let toggle = element(&client, "[data-testid=\"contribute-toggle\"]").await;
    eventually("the switch to read on", support::PATIENCE, || async {
        (toggle.attr("aria-checked").await.ok()?.as_deref() == Some("true")).then_some(())
    })
    .await;
    toggle.click().await.expect("switch off");
    eventually("the state to read Paused", support::PATIENCE, || async {
        let state = text_of(&client, "[data-testid=\"state\"]").await;
        state.contains("Paused").then_some(())
    })
    .await;
    assert_eq!(
        toggle
            .attr("aria-checked")
            .await
            .expect("aria-checked")
            .as_deref(),
        Some("false")
    );
    assert!(
        profile.settings_text().contains("enabled = false"),
        "settings.toml: {}",
        profile.settings_text()
    );

    toggle.click().await.expect("switch on");
    eventually("the state to leave Paused", support::PATIENCE, || async {
        let state = text_of(&client, "[data-testid=\"state\"]").await;
        (!state.is_empty() && !state.contains("Paused")).then_some(())
    })
    .await;
    end_session(client, &profile).await;
}

#[tokio::test]
async fn a_setting_changed_in_the_ui_survives_a_restart() {
    let _one = serial().await;
    let profile = Profile::contributing_at_once();
    let Some(desktop) = Desktop::start(&profile) else {
        return;
    };
    let field = "[data-testid=\"setting-policy.owner_cpu_resume_percent\"]";

    let client = desktop.launch().await;
    open_page(&client, "settings").await;
    let input = element(&client, field).await;
    input.clear().await.expect("clear");
    input.send_keys("42").await.expect("type");
    click(&client, "[data-testid=\"settings-save\"]").await;
    element(&client, "[data-testid=\"saved\"]").await;
    assert!(
        profile
            .settings_text()
            .contains("owner_cpu_resume_percent = 42"),
        "settings.toml: {}",
        profile.settings_text()
    );
    end_session(client, &profile).await;

    let client = desktop.launch().await;
    open_page(&client, "settings").await;
    let input = element(&client, field).await;
    let value = eventually("the saved value", support::PATIENCE, || async {
        input.prop("value").await.ok()?.filter(|v| !v.is_empty())
    })
    .await;
    assert_eq!(value, "42");
    end_session(client, &profile).await;
}

#[tokio::test]
async fn start_at_login_writes_and_removes_the_xdg_autostart_entry() {
    let _one = serial().await;
    let profile = Profile::contributing_at_once();
    let Some(desktop) = Desktop::start(&profile) else {
        return;
    };
    let entry = profile.home().join(".config/autostart/Idleshare.desktop");
    let client = desktop.launch().await;
    open_page(&client, "settings").await;
    let switch = "[data-testid=\"setting-preferences.autostart\"]";
    let save = "[data-testid=\"settings-save\"]";

    click(&client, switch).await;
    click(&client, save).await;
    eventually("the autostart entry", support::PATIENCE, || async {
        entry.exists().then_some(())
    })
    .await;
    let text = std::fs::read_to_string(&entry).expect("read the entry");
    assert!(text.contains("--minimized"), "entry: {text}");
    assert!(text.contains("idleshare-app"), "entry: {text}");

    click(&client, switch).await;
    click(&client, save).await;
    eventually("the entry to go", support::PATIENCE, || async {
        (!entry.exists()).then_some(())
    })
    .await;
    end_session(client, &profile).await;
}
