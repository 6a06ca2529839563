//! Desktop sources against real servers: a private Xvfb driven with xdotool and xprop, and a
//! fake logind (python3-dbusmock) on a private D-Bus; then the executor yielding to real
//! input through the input watcher.
//!
//! Without Xvfb or python3-dbusmock installed the tests skip with a message, unless
//! IDLESHARE_REQUIRE_XVFB=1 (as in scripts/test.sh and CI), where they fail instead. Every
//! process started here is stopped by a guard, whatever the outcome.

mod desktop_support;

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use desktop_support::{
    FakeLogind, Guard, PATIENCE, move_mouse, run_ok, wait_for_window, wait_until, xvfb,
};
use idleshare_node::executor::{
    BurnCpu, ExecutorConfig, InputWatcher, InputWatcherConfig, WorkExecutor, YieldReason,
};
use idleshare_node::monitor::desktop::logind::LogindInputIdle;
use idleshare_node::monitor::desktop::x11::{X11Fullscreen, X11InputIdle};
use idleshare_node::monitor::desktop::{detect_fullscreen_source, detect_input_idle_source};
use idleshare_node::monitor::{FullscreenSource, InputIdleSource};
use idleshare_protocol::Budget;

/// Set in a child run of this test binary to check detection under a chosen environment.
const DETECT_EXPECT_ENV: &str = "IDLESHARE_TEST_DETECT_EXPECT";

#[test]
fn x11_idle_grows_and_resets_on_xdotool_input() {
    let Some(server) = xvfb() else { return };
    let mut source = X11InputIdle::connect(Some(server.display())).expect("connect");
    assert_eq!(source.name(), "x11");
    let first = source.read().expect("idle time");
    std::thread::sleep(Duration::from_millis(300));
    let grown = source.read().expect("idle time");
    assert!(
        grown >= first + Duration::from_millis(250),
        "{first:?} → {grown:?}"
    );

    move_mouse(server.display(), 640, 400);
    // Without input the counter only grows; below `grown` means it was reset.
    wait_until("the input to reset idle time", || {
        (source.read()? < grown).then_some(())
    });
}

#[test]
fn x11_source_survives_the_server_going_away() {
    let Some(server) = xvfb() else { return };
    let mut idle = X11InputIdle::connect(Some(server.display())).expect("connect");
    let mut fullscreen = X11Fullscreen::connect(Some(server.display())).expect("connect");
    assert!(idle.read().is_some());
    drop(server);
    // Unknown from now on, never a panic or a crash.
    for _ in 0..3 {
        assert_eq!(idle.read(), None);
        assert_eq!(fullscreen.read(), None);
    }
}

#[test]
fn detected_sources_follow_the_display() {
    let Some(server) = xvfb() else { return };
    let run_child = |display: Option<&str>, expect: &str| {
        let mut child = Command::new(std::env::current_exe().expect("test binary"));
        child
            .args(["--exact", "detection_in_child_process", "--nocapture"])
            .env(DETECT_EXPECT_ENV, expect)
            .env_remove("WAYLAND_DISPLAY");
        match display {
            Some(display) => child.env("DISPLAY", display),
            None => child.env_remove("DISPLAY"),
        };
        let output = child.output().expect("run test binary");
        assert!(
            output.status.success(),
            "detection with DISPLAY={display:?}: {output:?}"
        );
    };
    run_child(Some(server.display()), "x11");
    run_child(None, "not-x11");
}

/// Does nothing in a normal run; checks detection when started by the test above.
#[test]
fn detection_in_child_process() {
    let Ok(expect) = std::env::var(DETECT_EXPECT_ENV) else {
        return;
    };
    let (idle, fullscreen) = (detect_input_idle_source(), detect_fullscreen_source());
    if expect == "x11" {
        assert_eq!((idle.name(), fullscreen.name()), ("x11", "x11"));
    } else {
        assert_ne!(idle.name(), "x11");
        assert_eq!(fullscreen.name(), "unknown");
    }
}

#[test]
fn x11_fullscreen_follows_ewmh_properties() {
    let Some(server) = xvfb() else { return };
    let display = server.display();
    let mut source = X11Fullscreen::connect(Some(display)).expect("connect");
    assert_eq!(source.read(), None, "no window manager: unknown");

    let title = format!("idleshare-fullscreen-{}", std::process::id());
    let xmessage = Command::new("xmessage")
        .args(["-title", &title, "full screen test"])
        .env("DISPLAY", display)
        .stderr(Stdio::null())
        .spawn()
        .expect("run xmessage (package x11-utils)");
    let xmessage = Guard(xmessage);
    let window = wait_for_window(display, &title);
    let set_active = |window: &str| {
        let args = [
            "-root",
            "-f",
            "_NET_ACTIVE_WINDOW",
            "32x",
            "-set",
            "_NET_ACTIVE_WINDOW",
            window,
        ];
        run_ok("xprop", &args, display);
    };
    set_active(&window);
    assert_eq!(source.read(), Some(false), "active window without state");

    let state = ["-f", "_NET_WM_STATE", "32a", "-set", "_NET_WM_STATE"];
    let fullscreen: Vec<&str> = ["-id", &window]
        .into_iter()
        .chain(state)
        .chain(["_NET_WM_STATE_FULLSCREEN"])
        .collect();
    run_ok("xprop", &fullscreen, display);
    assert_eq!(source.read(), Some(true), "active window is full screen");

    set_active("0");
    assert_eq!(source.read(), Some(false), "no active window");
    set_active(&window);
    assert_eq!(source.read(), Some(true));
    drop(xmessage);
    wait_until("the closed window to read as not full screen", || {
        (source.read() == Some(false)).then_some(())
    });
}

#[test]
fn x11_input_pauses_running_work() {
    let Some(server) = xvfb() else { return };
    let display = server.display();
    let config = ExecutorConfig {
        lower_session_autogroup: false, // leave the test harness's session alone
        ..ExecutorConfig::new(1)
    };
    let executor = WorkExecutor::start(config).expect("executor");
    executor
        .submit(Box::new(BurnCpu::forever()))
        .expect("submit");
    let source = X11InputIdle::connect(Some(display)).expect("connect");
    let mut probe = X11InputIdle::connect(Some(display)).expect("connect");
    let (events, yields) = mpsc::channel();
    let watcher_config = InputWatcherConfig::new(Duration::from_millis(200));
    let _watcher = InputWatcher::start(
        Box::new(source),
        executor.control(),
        watcher_config,
        move |e| {
            let _ = events.send(e);
        },
    )
    .expect("watcher");

    wait_until("300 ms without input", || {
        (probe.read()? >= Duration::from_millis(300)).then_some(())
    });
    let cpu = |executor: &WorkExecutor| executor.worker_cpu_times()[0].expect("CPU time");
    let before = cpu(&executor);
    executor.set_budget(Some(Budget {
        cores: 1,
        cpu_percent: 100,
        ..Budget::default()
    }));
    wait_until("the worker to burn", || {
        (cpu(&executor) > before + Duration::from_millis(5)).then_some(())
    });
    assert!(!executor.is_paused());

    move_mouse(display, 10, 10);
    let event = yields
        .recv_timeout(PATIENCE)
        .expect("the watcher paused work");
    assert_eq!(event.reason, YieldReason::InputArrived);
    assert!(executor.is_paused());
    wait_until("the job to be given back", || {
        (executor.queued_jobs() == 1).then_some(())
    });
    let paused = cpu(&executor);
    std::thread::sleep(Duration::from_millis(300));
    let used = cpu(&executor) - paused;
    assert!(
        used <= Duration::from_millis(5),
        "paused worker used {used:?}"
    );
}

#[test]
fn logind_idle_hint_from_dbusmock() {
    let Some(logind) = FakeLogind::start() else {
        return;
    };
    let mut source = LogindInputIdle::connect_address(&logind.address).expect("logind session");
    assert_eq!(
        source.session_path(),
        "/org/freedesktop/login1/session/auto"
    );
    assert!(
        !source.is_graphical_session(),
        "the mock's session type is 'test'"
    );
    assert_eq!(source.read(), Some(Duration::ZERO), "not idle yet");

    logind.set_idle_for(5);
    let idle = source.read().expect("idle time");
    assert!(
        (Duration::from_secs(4)..Duration::from_secs(60)).contains(&idle),
        "{idle:?}"
    );
    logind.set_active();
    assert_eq!(source.read(), Some(Duration::ZERO), "back to active");
}
