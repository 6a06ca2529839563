//! The Idleshare desktop app's entry point; everything is in the library.
// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    idleshare_app::run()
}
