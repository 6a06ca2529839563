//! How the app was launched: where its data and config live (arguments, then environment,
//! then the per-user dirs the CLI also uses), whether to start in the tray, and the
//! one-word requests a second launch forwards to the running app.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Argument: start with no window, in the tray (what the autostart entry passes).
pub const MINIMIZED: &str = "--minimized";
/// Argument to a second launch: close the running app's window (it stays in the tray).
pub const CLOSE_DASHBOARD: &str = "--close-dashboard";
/// Argument to a second launch: quit the running app.
pub const QUIT: &str = "--quit";
/// Environment variable for the data directory (node key, wallet, local coordinator).
pub const DATA_DIR_ENV: &str = "IDLESHARE_DATA_DIR";
/// Environment variable for the config directory (settings.toml, preferences.toml).
pub const CONFIG_DIR_ENV: &str = "IDLESHARE_CONFIG_DIR";

/// Where the app keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    /// Data: `node/` (the node's data dir) and `local-network/` (the embedded coordinator).
    pub data_dir: PathBuf,
    /// Config: `settings.toml` (the node's) and `preferences.toml` (the app's).
    pub config_dir: PathBuf,
    /// Whether either directory was chosen explicitly (a test or a second profile).
    pub explicit: bool,
}

impl AppPaths {
    /// The node's data directory (shared with `idleshare node` by default).
    pub fn node_dir(&self) -> PathBuf {
        self.data_dir.join("node")
    }

    /// The embedded local coordinator's directory.
    pub fn local_coordinator_dir(&self) -> PathBuf {
        self.data_dir.join("local-network")
    }

    /// The node's settings file (shared with `idleshare node` by default).
    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.toml")
    }

    /// The app's own preferences.
    pub fn preferences_file(&self) -> PathBuf {
        self.config_dir.join("preferences.toml")
    }

    /// What the app remembers between runs (the last daily summary).
    pub fn app_state_file(&self) -> PathBuf {
        self.data_dir.join("app-state.json")
    }
}

/// The parsed launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchOptions {
    /// Where files live.
    pub paths: AppPaths,
    /// Start in the tray without opening the dashboard.
    pub minimized: bool,
}

/// Why the launch arguments cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    /// An option that needs a value had none.
    #[error("{0} needs a directory")]
    MissingValue(String),
    /// An argument we do not know.
    #[error("unknown argument {0:?} (known: --data-dir DIR, --config-dir DIR, --minimized)")]
    Unknown(String),
    /// No home directory and no directories given.
    #[error("cannot find a home directory; pass --data-dir DIR and --config-dir DIR")]
    NoHome,
}

/// The per-user defaults: the same directories the CLI uses (`idleshare node`).
pub fn default_dirs() -> Option<(PathBuf, PathBuf)> {
    let dirs = directories::ProjectDirs::from("org", "Idleshare", "idleshare")?;
    Some((
        dirs.data_local_dir().to_path_buf(),
        dirs.config_dir().to_path_buf(),
    ))
}

/// Parses `args` (without the program name), with `env` for variables and `defaults` for
/// the per-user directories. Arguments win over the environment, which wins over defaults.
/// The second-launch requests ([`CLOSE_DASHBOARD`], [`QUIT`]) are accepted and ignored
/// here: they matter only to the running instance.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
    defaults: impl FnOnce() -> Option<(PathBuf, PathBuf)>,
) -> Result<LaunchOptions, LaunchError> {
    let mut data_dir = env(DATA_DIR_ENV).map(PathBuf::from);
    let mut config_dir = env(CONFIG_DIR_ENV).map(PathBuf::from);
    let mut minimized = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(PathBuf::from(value))),
            None => (text.clone(), None),
        };
        match name.as_str() {
            "--data-dir" | "--config-dir" => {
                let value = inline
                    .or_else(|| args.next().map(PathBuf::from))
                    .ok_or_else(|| LaunchError::MissingValue(name.clone()))?;
                if name == "--data-dir" {
                    data_dir = Some(value);
                } else {
                    config_dir = Some(value);
                }
            }
            MINIMIZED => minimized = true,
            CLOSE_DASHBOARD | QUIT => {}
            _ => return Err(LaunchError::Unknown(text)),
        }
    }
    let explicit = data_dir.is_some() || config_dir.is_some();
    let (data_dir, config_dir) = match (data_dir, config_dir) {
        (Some(data), Some(config)) => (data, config),
        (data, config) => {
            let (default_data, default_config) = defaults().ok_or(LaunchError::NoHome)?;
            (
                data.unwrap_or(default_data),
                config.unwrap_or(default_config),
            )
        }
    };
    Ok(LaunchOptions {
        paths: AppPaths {
            data_dir,
            config_dir,
            explicit,
        },
        minimized,
    })
}

/// The arguments the autostart entry passes: start in the tray, and the directories when
/// they were chosen explicitly (so a second profile starts as itself).
pub fn autostart_args(paths: &AppPaths) -> Vec<String> {
    let mut args = vec![MINIMIZED.to_owned()];
    if paths.explicit {
        args.push(format!("--data-dir={}", paths.data_dir.display()));
        args.push(format!("--config-dir={}", paths.config_dir.display()));
    }
    args
}

/// The D-Bus name that makes the app single-instance: one per data directory, so two
/// profiles (or parallel tests) each get their own, while the default profile has the
/// plain identifier.
pub fn instance_id(identifier: &str, paths: &AppPaths) -> String {
    if !paths.explicit {
        return identifier.to_owned();
    }
    // FNV-1a: stable across runs and Rust versions, unlike `DefaultHasher`.
    let hash = path_hash(&paths.data_dir);
    format!("{identifier}.p{hash:016x}")
}

fn path_hash(path: &Path) -> u64 {
    path.as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// What a second launch asks of the running app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondLaunch {
    /// Show the dashboard (the usual case: the user started the app again).
    Focus,
    /// Close the dashboard window, keeping the node in the tray.
    CloseDashboard,
    /// Quit.
    Quit,
    /// Started at login while already running: nothing to do.
    Nothing,
}

/// Reads a second launch's arguments (program name included, as forwarded).
pub fn second_launch(argv: &[String]) -> SecondLaunch {
    let has = |flag: &str| argv.iter().skip(1).any(|arg| arg == flag);
    if has(QUIT) {
        SecondLaunch::Quit
    } else if has(CLOSE_DASHBOARD) {
        SecondLaunch::CloseDashboard
    } else if has(MINIMIZED) {
        SecondLaunch::Nothing
    } else {
        SecondLaunch::Focus
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Option<(PathBuf, PathBuf)> {
        Some((
            "/home/a/.local/share/idleshare".into(),
            "/home/a/.config/idleshare".into(),
        ))
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn defaults_apply_without_arguments_or_environment() {
        let options = parse(args(&[]), |_| None, defaults).unwrap();
        assert_eq!(
            options.paths.data_dir,
            PathBuf::from("/home/a/.local/share/idleshare")
        );
        assert_eq!(
            options.paths.node_dir(),
            PathBuf::from("/home/a/.local/share/idleshare/node")
        );
        assert_eq!(
            options.paths.settings_file(),
            PathBuf::from("/home/a/.config/idleshare/settings.toml")
        );
        assert!(!options.paths.explicit && !options.minimized);
    }

    #[test]
    fn arguments_win_over_environment_which_wins_over_defaults() {
        let env = |name: &str| (name == DATA_DIR_ENV).then(|| OsString::from("/env/data"));
        let options = parse(args(&["--config-dir", "/arg/config"]), env, defaults).unwrap();
        assert_eq!(options.paths.data_dir, PathBuf::from("/env/data"));
        assert_eq!(options.paths.config_dir, PathBuf::from("/arg/config"));
        let options = parse(
            args(&["--data-dir=/arg/data", "--minimized"]),
            env,
            defaults,
        )
        .unwrap();
        assert_eq!(options.paths.data_dir, PathBuf::from("/arg/data"));
        assert!(options.minimized && options.paths.explicit);
    }

    #[test]
    fn bad_arguments_are_refused_with_the_reason() {
        assert_eq!(
            parse(args(&["--data-dir"]), |_| None, defaults),
            Err(LaunchError::MissingValue("--data-dir".into()))
        );
        assert_eq!(
            parse(args(&["--fly"]), |_| None, defaults),
            Err(LaunchError::Unknown("--fly".into()))
        );
        assert_eq!(
            parse(args(&[]), |_| None, || None),
            Err(LaunchError::NoHome)
        );
        // Both directories given: no home directory needed.
        assert!(
            parse(
                args(&["--data-dir", "/d", "--config-dir", "/c"]),
                |_| None,
                || None
            )
            .is_ok()
        );
    }

    #[test]
    fn autostart_starts_minimised_and_keeps_an_explicit_profile() {
        let default = parse(args(&[]), |_| None, defaults).unwrap();
        assert_eq!(autostart_args(&default.paths), vec![MINIMIZED]);
        let profile = parse(
            args(&["--data-dir", "/d", "--config-dir", "/c"]),
            |_| None,
            defaults,
        )
        .unwrap();
        assert_eq!(
            autostart_args(&profile.paths),
            vec![MINIMIZED, "--data-dir=/d", "--config-dir=/c"]
        );
    }

    #[test]
    fn each_explicit_data_dir_is_its_own_single_instance() {
        let default = parse(args(&[]), |_| None, defaults).unwrap();
        assert_eq!(
            instance_id("org.idleshare.app", &default.paths),
            "org.idleshare.app"
        );
        let a = parse(args(&["--data-dir", "/a"]), |_| None, defaults).unwrap();
        let b = parse(args(&["--data-dir", "/b"]), |_| None, defaults).unwrap();
        let id_a = instance_id("org.idleshare.app", &a.paths);
        assert_ne!(id_a, instance_id("org.idleshare.app", &b.paths));
        assert_eq!(id_a, instance_id("org.idleshare.app", &a.paths));
        // A D-Bus name element must not start with a digit.
        assert!(id_a.rsplit('.').next().unwrap().starts_with('p'));
    }

    #[test]
    fn a_second_launch_says_what_it_wants() {
        let argv = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(second_launch(&argv(&["app"])), SecondLaunch::Focus);
        assert_eq!(second_launch(&argv(&["app", QUIT])), SecondLaunch::Quit);
        assert_eq!(
            second_launch(&argv(&["app", CLOSE_DASHBOARD])),
            SecondLaunch::CloseDashboard
        );
        assert_eq!(
            second_launch(&argv(&["app", MINIMIZED])),
            SecondLaunch::Nothing
        );
    }
}
