//! Windows input idle time: `GetLastInputInfo` against `GetTickCount`.

use std::time::Duration;

use windows_sys::Win32::System::SystemInformation::GetTickCount;
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{GetLastInputInfo, LASTINPUTINFO};

use crate::monitor::snapshot::InputIdleSource;

/// Time since the last input in this desktop session, as Windows counts it.
#[derive(Debug, Default, Clone, Copy)]
pub struct WindowsInputIdle;

impl InputIdleSource for WindowsInputIdle {
    fn read(&mut self) -> Option<Duration> {
        let mut info = LASTINPUTINFO {
            cbSize: std::mem::size_of::<LASTINPUTINFO>() as u32,
            dwTime: 0,
        };
        // SAFETY: `info` is a valid LASTINPUTINFO with cbSize set, as the API requires; the
        // call only writes into it.
        if unsafe { GetLastInputInfo(&mut info) } == 0 {
            return None;
        }
        // SAFETY: no arguments, no preconditions.
        let now = unsafe { GetTickCount() };
        // Both are 32-bit millisecond tick counts that wrap every 49.7 days.
        Some(Duration::from_millis(now.wrapping_sub(info.dwTime).into()))
    }

    fn name(&self) -> &'static str {
        "windows"
    }
}
