//! `idleshare`: the command-line shell over the node and coordinator libraries.
//!
//! A thin shell: it parses arguments, calls a library, and prints the result.

mod api_client;
mod cli;
mod commands;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);
    match commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each said once: our error types name their cause
/// in their own message, and `{:#}` would repeat it.
fn describe(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn init_logging(verbose: bool) {
    let default = if verbose {
        "debug"
    } else {
        "info,quinn=warn,rustls=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only for a person at a terminal, never in files or CI logs.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(Debug, thiserror::Error)]
    #[error("settings.toml: {source}")]
    struct Invalid {
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once() {
        let inner = std::io::Error::other("policy.x = 250 is out of range 1..=100");
        let error =
            anyhow::Error::new(Invalid { source: inner }).context("cannot use the settings");
        assert_eq!(
            describe(&error),
            "cannot use the settings: settings.toml: policy.x = 250 is out of range 1..=100"
        );
    }
}
