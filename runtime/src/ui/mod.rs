//! The streaming UI: a read-only HTTP server started with the context
//! ([`Builder::ui`](crate::Builder::ui)), serving
//!
//! - `/`: the page ([`page`]), Spark's Streaming tab on its own (no external resources):
//!   timelines and histograms of input rate, scheduling delay, processing and total
//!   delay; active and completed batches with their stage times; receivers; the plan
//!   drawn as stages with their fused operators; checkpoint and recovery status. It
//!   polls the API every second;
//! - `/api/v1/batches`, `/api/v1/receivers`, `/api/v1/plan`, `/api/v1/status`: JSON
//!   ([`api`]);
//! - `/metrics`: Prometheus' text format ([`metrics`]);
//!
//! and the status line on a terminal ([`status`]). The server ([`server`]) only reads
//! snapshots of what the context records for every batch anyway, each under the short
//! lock of its part; no endpoint changes the job.

pub(crate) mod api;
pub(crate) mod metrics;
pub(crate) mod page;
pub(crate) mod server;
pub(crate) mod status;

use crate::driver::Driver;
use server::{Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// Answers a request to the UI.
pub(crate) fn route(driver: &Driver, req: &Request) -> Response {
    match req.path.as_str() {
        "/" | "/index.html" => Response::ok("text/html; charset=utf-8", page::PAGE),
        "/metrics" => Response::ok(metrics::CONTENT_TYPE, metrics::render(driver)),
        p => match p.strip_prefix("/api/v1/") {
            Some(what) => api::answer(driver, what, req),
            None => Response::error(404, "no such page"),
        },
    }
}

/// Binds the UI's server to `addr` and serves it on a thread the context joins when it
/// stops; the address it is bound to (port 0 picks one).
pub(crate) fn start(driver: &Arc<Driver>, addr: SocketAddr) -> crate::Result<SocketAddr> {
    let listener = server::bind(addr)
        .map_err(|e| crate::Error::io(format!("cannot bind the streaming UI to {addr}"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| crate::Error::io("cannot read the streaming UI's address", e))?;
    let d = driver.clone();
    let handler: server::Handler = Arc::new(move |req: &Request| route(&d, req));
    let d = driver.clone();
    let handle = std::thread::Builder::new()
        .name("rill-ui".into())
        .spawn(move || {
            let stopping = || d.run.stopping();
            if let Err(e) = server::serve(listener, "rill-ui", handler, stopping) {
                tracing::warn!(error = %e, "the streaming UI stopped");
            }
        })
        .map_err(|e| crate::Error::io("cannot start the streaming UI", e))?;
    driver.run.add_thread(handle);
    tracing::info!(addr = %bound, "streaming UI at http://{bound}/");
    Ok(bound)
}
