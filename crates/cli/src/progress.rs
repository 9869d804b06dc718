//! The command line's [`Reporter`]: progress bars on a terminal, plain
//! lines (start, every tenth, end) when stderr is a file or a pipe, so a
//! log shows the run moving.

use codejury_pipeline::reporter::{Reporter, Stage};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

/// How progress is drawn.
pub struct Progress {
    bars: Option<MultiProgress>,
    lines: bool,
    stages: Mutex<HashMap<String, State>>,
}

struct State {
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    next_line: u64,
    started: Instant,
}

impl Progress {
    /// Bars when stderr is a terminal, lines otherwise; nothing when quiet.
    pub fn new(quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            bars: (terminal && !quiet).then(MultiProgress::new),
            lines: !terminal && !quiet,
            stages: Mutex::new(HashMap::new()),
        }
    }

    fn lines(&self) -> bool {
        self.lines
    }

    /// Prints a line above the bars (or plainly).
    pub fn println(&self, line: &str) {
        match &self.bars {
            Some(m) => {
                let _ = m.println(line);
            }
            None => eprintln!("{line}"),
        }
    }
}

impl Reporter for Progress {
    fn start(&self, stage: &Stage, total: u64, done: u64) {
        let name = stage.to_string();
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total));
            let style = ProgressStyle::with_template(
                "{msg:>16} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(name.clone());
            bar.set_position(done);
            bar
        });
        if self.lines() && total > 0 {
            eprintln!("{name}: {done}/{total}");
        }
        let mut stages = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        stages.insert(
            name,
            State {
                bar,
                total,
                done,
                next_line: done + total.div_ceil(10).max(1),
                started: Instant::now(),
            },
        );
    }

    fn advance(&self, stage: &Stage, n: u64) {
        let lines = self.lines();
        let name = stage.to_string();
        let mut stages = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = stages.get_mut(&name) {
            s.done += n;
            if let Some(b) = &s.bar {
                b.inc(n);
            }
            if lines && s.done >= s.next_line && s.done < s.total {
                eprintln!(
                    "{name}: {}/{} ({:.0}s)",
                    s.done,
                    s.total,
                    s.started.elapsed().as_secs_f64()
                );
                s.next_line = s.done + s.total.div_ceil(10).max(1);
            }
        }
    }

    fn finish(&self, stage: &Stage) {
        let lines = self.lines();
        let name = stage.to_string();
        let mut stages = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = stages.remove(&name) {
            if let Some(b) = s.bar {
                b.finish_and_clear();
            }
            if lines && s.total > 0 {
                eprintln!(
                    "{name}: {}/{} done in {:.1}s",
                    s.done,
                    s.total,
                    s.started.elapsed().as_secs_f64()
                );
            }
        }
    }

    fn warn(&self, message: &str) {
        self.println(&format!("warning: {message}"));
    }
}
