//! A global allocator that tracks the bytes live and their peak, for tests that bound a
//! job's memory. Included by the binaries that use it (`#[path = "support/peak_heap.rs"]
//! mod peak_heap;`), not by `support`, since each declares it its allocator, over the
//! allocator it runs on:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: peak_heap::Tracking<std::alloc::System> = peak_heap::Tracking(std::alloc::System);
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Allocates with `A`, tracking the bytes live and their peak.
pub struct Tracking<A>(pub A);

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

#[allow(unsafe_code)]
// SAFETY: forwards to the inner allocator unchanged; only tracks the bytes live.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Tracking<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        unsafe { self.0.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by the inner allocator with `layout`.
        unsafe { self.0.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        grew(new_size);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// Starts a measurement: the peak is reset to the bytes live now, which are returned.
pub fn start() -> usize {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    base
}

/// The peak of live bytes above `base` since [`start`] returned it.
pub fn peak_since(base: usize) -> usize {
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}
