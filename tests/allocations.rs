//! Fused stages allocate per batch, per partition and per distinct key, never per
//! record: counted with a counting global allocator.

use rill::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made while `f` runs.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

fn ctx() -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap()
}

// One test function, so no other test allocates meanwhile.
#[test]
fn fused_stages_do_not_allocate_per_record() {
    // Word count: 200,000 words over 50 distinct words.
    let lines: Vec<String> = (0..20_000)
        .map(|i| {
            (0..10)
                .map(|j| format!("w{}", (i * 7 + j) % 50))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let ctx = ctx();
    stream! { ctx;
        queue_stream(vec![lines.clone(), lines])
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .for_each_batch(|_, counts| assert_eq!(counts.len(), 50));
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap(); // sizes the tables
    let n = allocations(|| ctx.advance(1).unwrap());
    assert!(
        n < 500,
        "{n} allocations for 200,000 words of 50 distinct words"
    );

    // A narrow chain over 1,000,000 numbers, then count.
    let ctx = self::ctx();
    stream! { ctx;
        queue_stream(vec![(0..1_000_000u64).collect::<Vec<u64>>()])
            .map(|x| x * 3)
            .filter(|x| x % 2 == 0)
            .flat_map(|x| [*x, *x + 1])
            .map(|x| x ^ 1)
            .count()
            .for_each_batch(|_, n| assert_eq!(n, vec![1_000_000]));
    };
    ctx.start().unwrap();
    let n = allocations(|| ctx.advance(1).unwrap());
    assert!(n < 100, "{n} allocations for 1,000,000 records");
}
