//! Ctrl-C as a cancellation: the first stops the work after what is in
//! flight (everything finished is in the store), the second quits at once.

use codejury_pipeline::CancellationToken;

/// A token cancelled by the first Ctrl-C.
pub fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    let installed = ctrlc::set_handler(move || {
        if t.is_cancelled() {
            eprintln!("\ninterrupted again: quitting now; finished work is in the store");
            std::process::exit(130);
        }
        t.cancel();
        eprintln!("\ninterrupted: stopping after the work in flight (Ctrl-C again to quit now)");
    });
    if let Err(e) = installed {
        tracing::warn!("cannot catch Ctrl-C: {e}");
    }
    token
}
