//! The progress bar `recon run` shows on a terminal: one step per phase
//! (read, match, render, check, publish) with the elapsed time. It draws on
//! stderr only, and only when stderr is a terminal, so logs, pipes and cron
//! output never see it; stdout stays the summary alone.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The phases of a run, in order.
const PHASES: [&str; 5] = [
    "reading ledger and bank files",
    "matching",
    "rendering results",
    "checking conservation",
    "publishing results",
];

/// Progress through the phases of one run.
pub struct RunProgress {
    bar: ProgressBar,
}

impl RunProgress {
    /// A bar on stderr when `show` and stderr is a terminal, hidden
    /// otherwise; starts at the first phase. It is the run's only progress
    /// indicator, so nothing else draws over its line.
    pub fn start(show: bool) -> RunProgress {
        let target = if show && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(PHASES.len() as u64), target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:20} {pos}/{len} {msg}")
                .expect("valid template"),
        );
        bar.set_message(PHASES[0]);
        bar.enable_steady_tick(Duration::from_millis(120));
        RunProgress { bar }
    }

    /// The previous phase is done; show the next.
    pub fn next(&self) {
        self.bar.inc(1);
        let phase = usize::try_from(self.bar.position()).unwrap_or(usize::MAX);
        if let Some(name) = PHASES.get(phase) {
            self.bar.set_message(*name);
        }
    }

    /// Removes the bar (the run finished or failed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.finish();
    }
}
