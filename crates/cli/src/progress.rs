//! Progress bars on standard error (hidden when it is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use smartborder_ingest::Progress;

/// A progress bar for a read, in bytes or rows.
pub struct Bar {
    bar: ProgressBar,
    bytes: bool,
}

impl Bar {
    pub fn new(bytes: bool) -> Bar {
        Bar {
            bar: ProgressBar::new(0),
            bytes,
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        let template = if self.bytes {
            "{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})"
        } else {
            "{msg} [{bar:40}] {human_pos}/{human_len} rows ({eta})"
        };
        self.bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        self.bar.set_message("reading");
        self.bar.set_length(total);
    }

    fn advance(&self, done: u64) {
        self.bar.inc(done);
    }
}
