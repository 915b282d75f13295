//! Where `text_file_stream`, `save_as_text_files` and `checkpoint_dir` point: a local
//! path (as always), a `file://` URL (the same path), or, with the `object-store`
//! feature, an `s3://bucket/prefix` URL in an object store.
//!
//! [`Location::parse`] is the one dispatch on the URL scheme: a local location takes the
//! local code path unchanged (same speed, same atomic renames); an object store location
//! takes the code of `sources/object_files.rs`, `sinks/object_files.rs` and
//! `checkpoint/objects.rs`, which reach the store through `Prefix` (`store/objects.rs`).

#[cfg(feature = "object-store")]
pub mod objects;

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// A parsed place for input files, output directories or checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A local directory (a plain path, or a `file://` URL).
    Local(PathBuf),
    /// A prefix in an object store: `s3://bucket/prefix`.
    Object {
        /// The URL as given.
        url: String,
        /// The bucket.
        bucket: String,
        /// The key prefix inside the bucket, without leading or trailing `/` (empty: the
        /// whole bucket).
        prefix: String,
    },
}

impl Location {
    /// Reads `path`: `file:///dir` is the local `/dir`; `s3://bucket/prefix` (and
    /// `s3a://`) is an object store prefix; anything else without `://` is a local path
    /// as it is. Another scheme (`hdfs://`, `gs://`, ...) is a configuration error, and
    /// so is an `s3://` URL when the `object-store` feature is off.
    pub fn parse(path: &Path) -> Result<Location> {
        let Some(s) = path.to_str() else {
            return Ok(Location::Local(path.to_path_buf()));
        };
        let Some((scheme, rest)) = s.split_once("://") else {
            return Ok(Location::Local(path.to_path_buf()));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                // `file:///dir` and `file://localhost/dir` name `/dir`.
                let rest = rest.strip_prefix("localhost").unwrap_or(rest);
                if !rest.starts_with('/') {
                    return Err(Error::Config(format!(
                        "{s}: a file URL needs an absolute path (file:///dir)"
                    )));
                }
                Ok(Location::Local(PathBuf::from(rest)))
            }
            "s3" | "s3a" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(Error::Config(format!("{s}: the URL names no bucket")));
                }
                if !cfg!(feature = "object-store") {
                    return Err(Error::Config(format!(
                        "{s}: object store URLs need rill's `object-store` feature"
                    )));
                }
                Ok(Location::Object {
                    url: s.to_string(),
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_matches('/').to_string(),
                })
            }
            other => Err(Error::Config(format!(
                "{s}: the scheme {other}:// is not supported (local paths, file:// and, with the \
                 `object-store` feature, s3:// are)"
            ))),
        }
    }

    /// `path` with a `file://` URL turned into its local path; anything else as it is
    /// (so that a checkpoint directory given as `file:///dir` is the directory `/dir`).
    pub fn normalize(path: &Path) -> PathBuf {
        match Location::parse(path) {
            Ok(Location::Local(p)) => p,
            _ => path.to_path_buf(),
        }
    }

    /// Whether `path` names an object store (`s3://...`), valid or not.
    pub fn is_object_store(path: &Path) -> bool {
        path.to_str()
            .and_then(|s| s.split_once("://"))
            .is_some_and(|(scheme, _)| !scheme.eq_ignore_ascii_case("file"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Location> {
        Location::parse(Path::new(s))
    }

    #[test]
    fn plain_paths_and_file_urls_are_local() {
        assert_eq!(parse("in/dir").unwrap(), Location::Local("in/dir".into()));
        assert_eq!(
            parse("file:///tmp/in").unwrap(),
            Location::Local("/tmp/in".into())
        );
        assert_eq!(
            parse("file://localhost/tmp/in").unwrap(),
            Location::Local("/tmp/in".into())
        );
        assert!(matches!(parse("file://relative"), Err(Error::Config(_))));
        assert_eq!(
            Location::normalize(Path::new("file:///a/b")),
            PathBuf::from("/a/b")
        );
    }

    #[test]
    fn other_schemes_are_configuration_errors() {
        let e = parse("hdfs://namenode/x").unwrap_err().to_string();
        assert!(e.contains("hdfs:// is not supported"), "{e}");
        assert!(matches!(parse("s3:///x"), Err(Error::Config(_))));
        assert!(Location::is_object_store(Path::new("s3://b/p")));
        assert!(!Location::is_object_store(Path::new("file:///b")));
    }

    #[test]
    fn s3_urls_need_the_feature() {
        let got = parse("s3://bucket/some/prefix/");
        if cfg!(feature = "object-store") {
            assert_eq!(
                got.unwrap(),
                Location::Object {
                    url: "s3://bucket/some/prefix/".into(),
                    bucket: "bucket".into(),
                    prefix: "some/prefix".into(),
                }
            );
        } else {
            let e = got.unwrap_err().to_string();
            assert!(e.contains("object-store"), "{e}");
        }
    }
}
