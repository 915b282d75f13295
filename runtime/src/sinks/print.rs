//! `print()` / `print_n(n)`: Spark's `DStream.print` frame on stdout.

use crate::{Partition, Time};
use std::fmt::{Debug, Write as _};
use std::io::Write as _;

const DASHES: &str = "-------------------------------------------";

/// The frame Spark prints for a batch: dashes, `Time: <ms> ms`, dashes, the first `num`
/// records (`Debug`), `...` when there are more, and an empty line.
///
/// ```
/// let frame = rill_runtime::sinks::print::frame(rill_runtime::Time(1000), &vec![vec![1, 2, 3]], 2);
/// assert_eq!(frame, "-------------------------------------------\nTime: 1000 ms\n-------------------------------------------\n1\n2\n...\n\n");
/// ```
pub fn frame<T: Debug, P: Partition<T>>(time: Time, parts: &[P], num: usize) -> String {
    let mut out = format!("{DASHES}\nTime: {time}\n{DASHES}\n");
    let mut records = parts.iter().flat_map(|p| p.records());
    for r in records.by_ref().take(num) {
        let _ = writeln!(out, "{r:?}");
    }
    if records.next().is_some() {
        out.push_str("...\n");
    }
    out.push('\n');
    out
}

/// Prints the frame of a batch to stdout in one write. A failed write (stdout closed:
/// `EPIPE` when the reader of a pipe went away) is an error that ends the job, as a Unix
/// tool stops when its output is gone, rather than output dropped silently.
pub fn print<T: Debug, P: Partition<T>>(time: Time, parts: &[P], num: usize) -> crate::Result<()> {
    let text = frame(time, parts, num);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| crate::Error::io(format!("cannot print the batch at {time}"), e))
}

/// The sink of `print()` and `print_n(num)`: each batch's frame on stdout.
pub struct Print {
    num: usize,
}

impl Print {
    /// Prints the first `num` records of every batch.
    pub fn new(num: usize) -> Print {
        Print { num }
    }
}

impl<T: Debug + Sync> crate::sinks::Sink<T> for Print {
    fn write(&mut self, time: Time, records: Vec<T>) -> crate::Result<()> {
        print(time, &[records], self.num)
    }

    fn write_partitions(&mut self, time: Time, partitions: Vec<Vec<T>>) -> crate::Result<()> {
        print(time, &partitions, self.num)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_batch_prints_header_only() {
        let f = frame::<u8, _>(Time(2000), &[vec![]], 10);
        assert_eq!(f, format!("{DASHES}\nTime: 2000 ms\n{DASHES}\n\n"));
    }

    #[test]
    fn exactly_num_records_has_no_ellipsis() {
        let f = frame(Time(1000), &[vec![("a", 1)], vec![("b", 2)]], 2);
        assert_eq!(
            f,
            format!("{DASHES}\nTime: 1000 ms\n{DASHES}\n(\"a\", 1)\n(\"b\", 2)\n\n")
        );
    }
}
