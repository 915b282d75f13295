//! The framing of every durable record: a magic tag, a length and a CRC-32 of the
//! payload, so a truncated or corrupted file is detected, never misread.

/// CRC-32 (IEEE 802.3, reflected; check value `0xCBF43926`), by `crc32fast`, which picks
/// at run time the CPU's carry-less multiply where there is one (PCLMULQDQ or VPCLMULQDQ
/// on x86-64, PMULL on aarch64), else a 16-bytes-at-a-time table loop.
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Why a frame could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The data ends before the frame does.
    Truncated,
    /// The data does not start with the expected tag.
    BadMagic,
    /// The payload does not match its checksum.
    BadChecksum,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FrameError::Truncated => "truncated",
            FrameError::BadMagic => "not a rill file (bad magic)",
            FrameError::BadChecksum => "corrupted (checksum mismatch)",
        })
    }
}

const HEADER: usize = 8 + 8 + 4;

/// `magic ‖ len (u64 LE) ‖ crc32 (u32 LE) ‖ payload`.
pub fn encode(magic: &[u8; 8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Reads one frame from the start of `data`: its payload and the bytes it used.
pub fn decode<'a>(magic: &[u8; 8], data: &'a [u8]) -> Result<(&'a [u8], usize), FrameError> {
    if data.len() < HEADER {
        return Err(FrameError::Truncated);
    }
    if &data[..8] != magic {
        return Err(FrameError::BadMagic);
    }
    let len = u64::from_le_bytes(data[8..16].try_into().map_err(|_| FrameError::Truncated)?);
    let crc = u32::from_le_bytes(data[16..20].try_into().map_err(|_| FrameError::Truncated)?);
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| HEADER.checked_add(l))
        .filter(|end| *end <= data.len())
        .ok_or(FrameError::Truncated)?;
    let payload = &data[HEADER..end];
    if crc32(payload) != crc {
        return Err(FrameError::BadChecksum);
    }
    Ok((payload, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[u8; 8] = b"RILLTEST";

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn round_trips_and_detects_damage() {
        let f = encode(M, b"hello");
        assert_eq!(decode(M, &f), Ok((&b"hello"[..], f.len())));
        assert_eq!(decode(M, &f[..f.len() - 1]), Err(FrameError::Truncated));
        let mut bad = f.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(decode(M, &bad), Err(FrameError::BadChecksum));
        assert_eq!(decode(b"OTHERMAG", &f), Err(FrameError::BadMagic));
        let mut huge = f.clone();
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(decode(M, &huge), Err(FrameError::Truncated));
    }
}
