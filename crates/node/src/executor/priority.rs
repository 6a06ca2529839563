//! The lowest OS priority for worker threads, so the owner's programs always win the CPU.

/// The priority a worker thread got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerPriority {
    /// Linux `SCHED_IDLE`: runs only when no normal thread wants the core (≈ 0.4 % against
    /// a busy one, measured). Works unprivileged.
    SchedIdle,
    /// Nice 19 on the thread (≈ 1.5 % against a busy one): the fallback when `SCHED_IDLE`
    /// is refused.
    Nice19,
    /// Windows `THREAD_PRIORITY_IDLE`: base priority 1, the lowest outside real-time.
    WindowsIdle,
    /// Nothing could be lowered (or this OS is not handled yet, such as macOS, whose
    /// background QoS class would be the equivalent).
    Unchanged,
}

/// Lowers the calling thread as far as the OS allows without privileges.
pub fn lower_current_thread() -> WorkerPriority {
    #[cfg(target_os = "linux")]
    {
        linux::lower_current_thread()
    }
    #[cfg(windows)]
    {
        windows::lower_current_thread()
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        WorkerPriority::Unchanged
    }
}

/// Lowers this process's autogroup to nice 19, once per process (Linux; elsewhere a no-op).
///
/// The kernel first shares CPU between autogroups (one per session) and only then between
/// threads inside one, so without this a `SCHED_IDLE` worker still gets half the CPU against
/// a busy process in another session. It lowers every process in this session, which is why
/// it is optional (see `ExecutorConfig::lower_session_autogroup`). Desktops where systemd puts
/// sessions in cgroups share CPU by cgroup instead, where this write changes little.
pub(crate) fn lower_session_autogroup() {
    #[cfg(target_os = "linux")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| match std::fs::write("/proc/self/autogroup", "19") {
            Ok(()) => tracing::debug!("autogroup lowered to nice 19"),
            // No CONFIG_SCHED_AUTOGROUP, or autogroups switched off: nothing to lower.
            Err(error) => tracing::debug!("cannot lower the autogroup: {error}"),
        });
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::WorkerPriority;

    pub(super) fn lower_current_thread() -> WorkerPriority {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param that outlives the call; pid 0 names the
        // calling thread (Linux schedules threads, not processes).
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
            return WorkerPriority::SchedIdle;
        }
        // SAFETY: gettid has no preconditions.
        let thread_id = unsafe { libc::gettid() };
        // SAFETY: a plain syscall; on Linux PRIO_PROCESS with a thread id sets that thread's
        // nice value only.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, thread_id as libc::id_t, 19) } == 0 {
            return WorkerPriority::Nice19;
        }
        WorkerPriority::Unchanged
    }
}

#[cfg(windows)]
mod windows {
    use windows_sys::Win32::System::Threading::{
        GetCurrentThread, SetThreadPriority, THREAD_PRIORITY_IDLE,
    };

    use super::WorkerPriority;

    /// The thread alone, not the process's priority class: THREAD_PRIORITY_IDLE is already
    /// base priority 1 in every class but real-time, and an idle class would also slow the
    /// node's networking and input watcher.
    pub(super) fn lower_current_thread() -> WorkerPriority {
        // SAFETY: GetCurrentThread returns a pseudo-handle valid in this thread; no
        // preconditions.
        if unsafe { SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_IDLE) } != 0 {
            WorkerPriority::WindowsIdle
        } else {
            WorkerPriority::Unchanged
        }
    }
}
