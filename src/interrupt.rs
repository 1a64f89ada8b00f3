//! Stopping a run on SIGINT, SIGTERM or SIGHUP without debris: a watcher
//! thread (signal-hook) removes the staging directory, clears the progress
//! line, lets the command record the interruption, and exits with 128 + the
//! signal number (130, 143, 129). Publishing and recording it in the audit
//! log form one critical section: a signal that arrives during it waits
//! until the results are complete and recorded.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Set by the watcher as soon as a signal arrives.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Once a signal has arrived the watcher owns the ending (cleanup, audit
/// line, exit code): the calling thread waits here for the process to exit
/// instead of reporting the failures the cleanup causes.
pub fn yield_to_interrupt() {
    if STOPPING.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

/// What the watcher needs to know about the run in progress.
#[derive(Debug, Default)]
struct State {
    /// The staging directory being written, if any.
    staging: Option<PathBuf>,
    /// The spill directory of a partitioned run (`run --memory-limit`), if any.
    spill: Option<PathBuf>,
    /// The results are published and recorded: nothing left to undo.
    done: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    staging: None,
    spill: None,
    done: false,
});

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records the staging directory being written, for removal on a signal.
/// Call outside the critical section.
pub fn set_staging(dir: PathBuf) {
    state().staging = Some(dir);
}

/// Records (or, with `None`, forgets) the spill directory of a partitioned
/// run, for removal on a signal.
pub fn set_spill(dir: Option<PathBuf>) {
    state().spill = dir;
}

/// The critical section of publishing: while held, a signal waits.
pub struct Critical(MutexGuard<'static, State>);

impl std::fmt::Debug for Critical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Critical")
    }
}

/// Enters the critical section (publish, then record in the audit log).
pub fn critical() -> Critical {
    Critical(state())
}

impl Critical {
    /// The staging directory was swapped in: nothing to remove any more.
    pub fn published(&mut self) {
        self.0.staging = None;
    }

    /// The results are published and recorded: a later signal only exits.
    pub fn done(mut self) {
        self.0.done = true;
        self.0.staging = None;
    }
}

/// A signal that stopped the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// `SIGINT`, `SIGTERM` or `SIGHUP`.
    pub name: &'static str,
    /// The exit code: 128 + the signal number.
    pub exit_code: u8,
}

/// Starts watching for SIGINT, SIGTERM and SIGHUP. On the first one the
/// staging directory is removed, the terminal line cleared, `record` called
/// (unless the run already finished publishing) and the process exits.
#[cfg(unix)]
pub fn watch(record: impl FnOnce(Stopped) + Send + 'static) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::spawn(move || {
        let Some(signal) = signals.forever().next() else {
            return;
        };
        let name = match signal {
            SIGINT => "SIGINT",
            SIGTERM => "SIGTERM",
            _ => "SIGHUP",
        };
        let exit_code = u8::try_from(128 + signal).unwrap_or(u8::MAX);
        STOPPING.store(true, Ordering::SeqCst);
        let mut state = state();
        for dir in [state.staging.take(), state.spill.take()].into_iter().flatten() {
            remove(&dir);
        }
        restore_terminal();
        if !state.done {
            record(Stopped { name, exit_code });
        }
        std::process::exit(i32::from(exit_code));
    });
    Ok(())
}

/// Removes a staging directory that other threads may still be writing
/// into: retried while new files appear (bounded), done once it is gone.
#[cfg(unix)]
fn remove(dir: &std::path::Path) {
    for _ in 0..1000 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::yield_now(),
        }
    }
}

/// Signals are not watched on this platform.
#[cfg(not(unix))]
pub fn watch(_record: impl FnOnce(Stopped) + Send + 'static) -> std::io::Result<()> {
    Ok(())
}

/// Clears the progress line and shows the cursor again, on a terminal.
#[cfg(unix)]
fn restore_terminal() {
    use std::io::{IsTerminal, Write};
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = err.write_all(b"\r\x1b[2K\x1b[?25h");
        let _ = err.flush();
    }
}
