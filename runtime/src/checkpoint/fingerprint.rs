//! The plan fingerprint stored in every snapshot: a resumed job must compute the same one.
//!
//! It hashes the canonical forms of the job's pipelines (their operator graphs without
//! names, closures or formatting, made by the `stream!` macro), joined in definition
//! order, with 64-bit FNV-1a written out here: its output depends on nothing but the
//! bytes, not on a crate's version, the platform or the pointer width.

/// FNV-1a, 64 bits, of `bytes`.
pub(crate) fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET_BASIS, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// The fingerprint of a set of pipelines: the hash of the canonical forms of their
/// operator graphs, joined in definition order.
pub(crate) fn plan_fingerprint(plans: &str) -> u64 {
    fnv1a_64(plans.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_64_matches_the_published_values() {
        // Test vectors of FNV-1a 64 (the reference implementation's test suite).
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_fingerprint_of_a_plan_is_pinned() {
        // A checkpoint written today must be resumable by every later build: if this
        // value changes, so does every stored fingerprint.
        let plan = "rill-plan 1\n0 queue_stream\n1 flat_map <- 0\n2 map <- 1\n3 update_state_by_key <- 2\n4 save_as_text_files <- 3\n";
        assert_eq!(plan_fingerprint(plan), 0x2738_ed4f_5060_39a4);
    }
}
