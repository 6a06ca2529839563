//! Idling quietly in the tray: what the app gives back once the dashboard window is gone.
//!
//! Destroying the window ends WebKit's web process. On Linux, WebKit keeps its network
//! process for the app's life (Tauri keeps the web context, tauri#14626), and the app
//! process keeps the libraries the webview touched (WebKit, JavaScriptCore, Mesa's LLVM)
//! resident. So a few seconds after the window closed, if it is still closed:
//! - the network process is stopped (WebKit starts a new one when a window opens again);
//! - freed heap is returned to the OS (`malloc_trim`);
//! - the read-only file-backed pages of the app's mappings (library code and constants,
//!   never written, reloaded from the file on next use) are paged out (`MADV_PAGEOUT`).
//!
//! The same runs once after a start straight into the tray (at login), for what start-up
//! touched. Also, before GTK starts, the app process keeps OpenGL out of itself: GTK's own GL is
//! switched off, and WebKit's side of the window is refused an EGL display (WebKit then takes
//! the pages its web process draws through shared memory). The tray and a dashboard of text
//! and a small chart need no GL in this process, and a GL driver, once loaded, stays resident
//! for the app's life (Mesa's software one is 45+ MB; hardware drivers are larger). The web
//! process, which does the drawing, still gets the system's EGL.

/// How long after the window closed the app trims (the web process exits in between).
pub const TRIM_AFTER: std::time::Duration = std::time::Duration::from_secs(3);
/// How long after a start in the tray (`--minimized`) the app trims what start-up touched.
pub const SETTLED_AFTER_START: std::time::Duration = std::time::Duration::from_secs(15);

/// One line of `/proc/PID/maps` that is safe to page out: file-backed and not writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanMapping {
    /// Start address.
    pub start: usize,
    /// Length in bytes.
    pub len: usize,
}

/// The mappings of a `/proc/PID/maps` text that are backed by a file and never written
/// (code, read-only data): dropping their pages loses nothing.
pub fn clean_file_mappings(maps: &str) -> Vec<CleanMapping> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let perms = fields.next()?;
            let path = fields.nth(3)?;
            let writable = perms.as_bytes().get(1) != Some(&b'-');
            if writable || !perms.starts_with('r') || !path.starts_with('/') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (end > start).then(|| CleanMapping {
                start,
                len: end - start,
            })
        })
        .collect()
}

/// Children of `parent` whose name starts with `prefix`, from `(pid, ppid, name)` triples.
pub fn children_named(
    processes: impl IntoIterator<Item = (u32, u32, String)>,
    parent: u32,
    prefix: &str,
) -> Vec<u32> {
    processes
        .into_iter()
        .filter(|(_, ppid, name)| *ppid == parent && name.starts_with(prefix))
        .map(|(pid, _, _)| pid)
        .collect()
}

/// Asks GTK not to initialise OpenGL, unless the user chose otherwise (`GDK_GL` set).
/// Call first thing in `main`, before any thread starts.
pub fn disable_gdk_gl() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        // SAFETY: called at the start of main, before any other thread exists, so nothing
        // reads the environment concurrently.
        unsafe { std::env::set_var("GDK_GL", "disable") };
    }
}

/// The environment variable that, set to anything, lets the app process load a GL driver for
/// WebKit (skipping [`refuse_egl_in_this_process`]).
pub const ALLOW_GL_VAR: &str = "IDLESHARE_APP_GL";

/// Makes EGL find no driver in this process, for its whole life, while processes it starts
/// (WebKit's web process) still find the system's drivers. Unless [`ALLOW_GL_VAR`] is set.
///
/// libglvnd reads its vendor list once per process, on first use, and honours
/// `__EGL_VENDOR_LIBRARY_FILENAMES`. So this points that variable at no file, makes libglvnd
/// read its (empty) list now, and puts the variable back as it was before anything else can
/// see it. Call first thing in `main`, before any thread starts.
pub fn refuse_egl_in_this_process() {
    #[cfg(target_os = "linux")]
    if std::env::var_os(ALLOW_GL_VAR).is_none() {
        linux::load_no_egl_vendors();
    }
}

/// Stops WebKit's network process and gives memory back (see the module docs).
pub fn release_webview_memory() {
    #[cfg(target_os = "linux")]
    linux::release();
}

#[cfg(target_os = "linux")]
mod linux {
    use super::{children_named, clean_file_mappings};

    /// `(pid, ppid, name)` of every process, from `/proc/PID/stat`.
    fn processes() -> Vec<(u32, u32, String)> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| {
                let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                // "PID (NAME) STATE PPID ...": the name may hold spaces and parentheses.
                let (head, tail) = stat.rsplit_once(')')?;
                let name = head.split_once('(')?.1.to_owned();
                let ppid = tail.split_whitespace().nth(1)?.parse().ok()?;
                Some((pid, ppid, name))
            })
            .collect()
    }

    const VENDOR_FILES_VAR: &str = "__EGL_VENDOR_LIBRARY_FILENAMES";
    const EGL_EXTENSIONS: i32 = 0x3055;

    pub(super) fn load_no_egl_vendors() {
        let previous = std::env::var_os(VENDOR_FILES_VAR);
        // SAFETY: called at the start of main, before any other thread exists, so nothing
        // reads the environment concurrently.
        unsafe { std::env::set_var(VENDOR_FILES_VAR, "/nonexistent/idleshare-no-egl.json") };
        query_egl_client_extensions();
        // SAFETY: as above; the variable is back before any thread or child process starts.
        unsafe {
            match previous {
                Some(value) => std::env::set_var(VENDOR_FILES_VAR, value),
                None => std::env::remove_var(VENDOR_FILES_VAR),
            }
        }
    }

    /// Opens libglvnd's libEGL (the one WebKit's libepoxy will open) and asks for its client
    /// extensions, which makes it load its vendor list. Without a libEGL there is nothing to
    /// keep out.
    fn query_egl_client_extensions() {
        type QueryString = unsafe extern "C" fn(*mut libc::c_void, i32) -> *const libc::c_char;
        // SAFETY: dlopen and dlsym are given NUL-terminated names; the handle is kept open
        // (never dlclosed) so the library and its state live as long as the process.
        unsafe {
            let handle = libc::dlopen(c"libEGL.so.1".as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL);
            if handle.is_null() {
                return;
            }
            let symbol = libc::dlsym(handle, c"eglQueryString".as_ptr());
            if symbol.is_null() {
                return;
            }
            // SAFETY: eglQueryString has this C signature in every EGL; EGL_NO_DISPLAY is null.
            let query: QueryString = std::mem::transmute::<*mut libc::c_void, QueryString>(symbol);
            query(std::ptr::null_mut(), EGL_EXTENSIONS);
        }
    }

    fn network_processes() -> Vec<u32> {
        children_named(processes(), std::process::id(), "WebKitNetwork")
    }

    pub(super) fn release() {
        for pid in network_processes() {
            // SAFETY: kill has no memory preconditions; the pid is our own child's.
            let sent = unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            if sent != 0 {
                tracing::debug!("cannot stop WebKit's network process {pid}");
            }
        }
        // Pages still mapped by another process are not paged out: let it exit first.
        for _ in 0..40 {
            if network_processes().is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // SAFETY: malloc_trim only walks glibc's own heap.
        unsafe { libc::malloc_trim(0) };
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        let mut paged = 0usize;
        for mapping in clean_file_mappings(&maps) {
            // SAFETY: MADV_PAGEOUT on a read-only file mapping only drops pages the kernel
            // can read back from the file; no content can change or be lost.
            let done = unsafe {
                libc::madvise(
                    mapping.start as *mut libc::c_void,
                    mapping.len,
                    libc::MADV_PAGEOUT,
                )
            };
            if done == 0 {
                paged += mapping.len;
            }
        }
        tracing::debug!("window closed: paged out up to {} MiB of code", paged >> 20);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c0000000-55d0c0200000 r--p 00000000 fe:01 123 /usr/bin/idleshare-app
55d0c0200000-55d0c0800000 r-xp 00200000 fe:01 123 /usr/bin/idleshare-app
55d0c0800000-55d0c0900000 rw-p 00800000 fe:01 123 /usr/bin/idleshare-app
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
7f0000100000-7f0000200000 r-xp 00000000 fe:01 77 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1
7f0000200000-7f0000201000 ---p 00000000 fe:01 77 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1
7f0000300000-7f0000301000 rw-s 00000000 00:05 9 /SYSV00000000 (deleted)
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0 [vdso]
";

    #[test]
    fn only_readable_unwritable_file_mappings_are_clean() {
        let clean = clean_file_mappings(MAPS);
        assert_eq!(
            clean,
            vec![
                CleanMapping {
                    start: 0x55d0_c000_0000,
                    len: 0x20_0000
                },
                CleanMapping {
                    start: 0x55d0_c020_0000,
                    len: 0x60_0000
                },
                CleanMapping {
                    start: 0x7f00_0010_0000,
                    len: 0x10_0000
                },
            ]
        );
    }

    #[test]
    fn garbage_lines_are_skipped() {
        assert!(clean_file_mappings("nonsense\n\nzz-yy r-xp 0 0 0 /x\n").is_empty());
    }

    #[test]
    fn only_our_own_webkit_network_children_are_chosen() {
        let processes = vec![
            (10, 1, "idleshare-app".to_owned()),
            (11, 10, "WebKitNetworkPr".to_owned()),
            (12, 10, "WebKitWebProces".to_owned()),
            (13, 99, "WebKitNetworkPr".to_owned()),
        ];
        assert_eq!(children_named(processes, 10, "WebKitNetwork"), vec![11]);
    }
}
