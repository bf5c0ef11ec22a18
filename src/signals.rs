//! Ctrl-C and SIGTERM as a careful operator expects them. The first stops
//! new work (running operations finish and are recorded, state is written,
//! the lock released); the second cancels operations in flight (what is known
//! is recorded, unfinished creates stay as intents for the next run) and the
//! command exits at once. Waiting for a lock stops at the first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct Interrupts {
    /// Set by the first signal: start nothing new.
    pub stop: Arc<AtomicBool>,
    /// Cancelled with `stop`, for whoever waits rather than polls.
    pub first: CancellationToken,
    /// Cancelled by the second signal: abandon what is in flight.
    pub second: CancellationToken,
    /// A question is waiting for an answer on the terminal: an interrupt
    /// there is a "no", and nothing is running, so the process exits.
    pub at_prompt: Arc<AtomicBool>,
}

static INSTALLED: std::sync::OnceLock<Interrupts> = std::sync::OnceLock::new();

/// The process's interrupts (listening starts on first use, inside the runtime).
pub fn get() -> &'static Interrupts {
    INSTALLED.get_or_init(Interrupts::install)
}

impl Interrupts {
    /// Listen for SIGINT and SIGTERM for the rest of the process.
    fn install() -> Interrupts {
        let me = Interrupts {
            stop: Arc::new(AtomicBool::new(false)),
            first: CancellationToken::new(),
            second: CancellationToken::new(),
            at_prompt: Arc::new(AtomicBool::new(false)),
        };
        let it = me.clone();
        tokio::spawn(async move {
            let mut signals = Signals::new();
            let mut count = 0;
            while signals.next().await {
                count += 1;
                if it.at_prompt.load(Ordering::SeqCst) {
                    // The prompt answers no and the command unwinds, releasing its lock.
                    it.stop.store(true, Ordering::SeqCst);
                    it.first.cancel();
                    break;
                }
                if count == 1 {
                    it.stop.store(true, Ordering::SeqCst);
                    it.first.cancel();
                    eprintln!(
                        "\nInterrupt received.\nNo new operation starts; operations in flight finish and are recorded, then ecspoc exits.\nInterrupt again to cancel operations in flight and exit at once."
                    );
                } else {
                    it.second.cancel();
                    eprintln!(
                        "\nSecond interrupt: cancelling operations in flight. What they finished is recorded; creates left unfinished are found by their marker on the next run."
                    );
                    break;
                }
            }
        });
        me
    }
}

/// SIGINT and SIGTERM, listened to from the start so none is missed.
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals { streams: signal(SignalKind::interrupt()).ok().zip(signal(SignalKind::terminate()).ok()) }
    }

    #[cfg(unix)]
    async fn next(&mut self) -> bool {
        let Some((int, term)) = self.streams.as_mut() else {
            return false;
        };
        tokio::select! {
            r = int.recv() => r.is_some(),
            r = term.recv() => r.is_some(),
        }
    }

    #[cfg(not(unix))]
    fn new() -> Signals {
        Signals {}
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> bool {
        tokio::signal::ctrl_c().await.is_ok()
    }
}
