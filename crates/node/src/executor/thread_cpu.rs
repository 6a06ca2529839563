//! CPU time used by a given thread, read from outside it: how tests and the yield benchmark
//! tell that paused workers really stopped.

use std::thread::JoinHandle;
use std::time::Duration;

/// CPU time `thread` has used; `None` where this OS is not handled or the read failed.
#[cfg(target_os = "linux")]
pub(crate) fn cpu_time_of(thread: &JoinHandle<()>) -> Option<Duration> {
    use std::os::unix::thread::JoinHandleExt;

    let mut clock: libc::clockid_t = 0;
    // SAFETY: the pthread_t comes from a JoinHandle we hold, so the thread is not joined or
    // detached and the id is valid; `clock` is a valid place to write.
    if unsafe { libc::pthread_getcpuclockid(thread.as_pthread_t(), &mut clock) } != 0 {
        return None;
    }
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write; an invalid clock only returns an error.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return None;
    }
    let seconds = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    Some(Duration::new(seconds, nanos))
}

/// CPU time `thread` has used; `None` where this OS is not handled or the read failed.
#[cfg(not(target_os = "linux"))]
pub(crate) fn cpu_time_of(_thread: &JoinHandle<()>) -> Option<Duration> {
    None
}
