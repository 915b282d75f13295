//! `socket_listen_stream(addr)`: listens on `addr` and receives UTF-8 lines from any
//! number of clients, so `echo "a b" | nc localhost 9999` feeds the stream.

use super::line_reader::{POLL, ReadEnd, read_lines};
use super::receiver::{BlockSink, Receiving};
use super::{Slot, SourceControl, SourceStats, lock};
use crate::Time;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A receiver listening on an address and reading lines from every client.
pub struct ListenSource {
    addr: String,
    receiving: Receiving,
    bound: Mutex<Option<SocketAddr>>,
}

impl ListenSource {
    /// A listener for `addr` (bound at `start()`); returns the source and its slot.
    pub fn new(
        addr: &str,
        stats: Arc<SourceStats>,
        partitions: usize,
    ) -> (Arc<Self>, Arc<Slot<String>>) {
        let receiving = Receiving::new(stats, partitions);
        let slot = receiving.slot();
        let src = ListenSource {
            addr: addr.to_string(),
            receiving,
            bound: Mutex::new(None),
        };
        (Arc::new(src), slot)
    }
}

fn accept_loop(
    listener: TcpListener,
    tx: BlockSink,
    stop: Arc<AtomicBool>,
    stats: Arc<SourceStats>,
) {
    let mut clients: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "client connected");
                if let Err(e) = stream.set_nonblocking(false) {
                    tracing::warn!(%peer, error = %e, "cannot configure client socket; dropping it");
                    continue;
                }
                let (tx, stop, stats) = (tx.clone(), stop.clone(), stats.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("rill-client-{peer}"))
                    .spawn(move || match read_lines(stream, &tx, &stop, &stats) {
                        ReadEnd::Failed(e) => {
                            tracing::warn!(%peer, error = %e, "client connection failed")
                        }
                        _ => tracing::debug!(%peer, "client done"),
                    });
                match spawned {
                    Ok(h) => clients.push(h),
                    Err(e) => tracing::warn!(%peer, error = %e, "cannot start a client thread"),
                }
                clients.retain(|h| !h.is_finished());
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL / 5),
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                std::thread::sleep(POLL);
            }
        }
    }
    for h in clients {
        let _ = h.join();
    }
}

impl SourceControl for ListenSource {
    fn describe(&self) -> String {
        format!("socket_listen_stream({})", self.addr)
    }

    fn start(&self) -> crate::Result<()> {
        let listener = TcpListener::bind(&self.addr)
            .map_err(|e| crate::Error::io(format!("cannot listen on {}", self.addr), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| crate::Error::io("cannot configure the listener", e))?;
        let local = listener
            .local_addr()
            .map_err(|e| crate::Error::io("cannot read the listener's address", e))?;
        *lock(&self.bound) = Some(local);
        tracing::info!(addr = %local, "listening for lines");
        self.receiving
            .spawn(format!("rill-listen-{local}"), move |tx, stop, stats| {
                accept_loop(listener, tx, stop, stats)
            })
    }

    fn cut(&self, time: Time) -> usize {
        self.receiving.cut(time)
    }

    fn stop(&self) {
        self.receiving.stop();
    }

    fn receiving(&self) -> Option<&Receiving> {
        Some(&self.receiving)
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        *lock(&self.bound)
    }
}
