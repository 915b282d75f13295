//! [`Prefix`]: a key prefix in an S3 bucket (AWS S3 or an S3-compatible store), reached
//! through `object_store`'s client with blocking calls.
//!
//! The client is `AmazonS3Builder::from_env()` plus the URL's bucket, so the standard
//! environment variables configure it: `AWS_ENDPOINT_URL` (an S3-compatible server),
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`
//! (default `us-east-1`), `AWS_ALLOW_HTTP=true` (a plain-HTTP endpoint) and
//! `AWS_VIRTUAL_HOSTED_STYLE_REQUEST` (path-style requests by default).
//!
//! Its async calls run on a small tokio runtime (one worker thread) that each `Prefix`
//! owns: users see blocking methods and no runtime. A request that fails for a reason
//! worth retrying (a connection error, a timeout, a 5xx answer) is retried 3 times with
//! exponential backoff, within 30 s; then the call returns [`Error::ObjectStore`], never
//! panics.

use crate::{Error, Result};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ObjectStore, ObjectStoreExt, PutMode, PutPayload, RetryConfig, UpdateVersion,
};
use std::future::Future;
use std::time::Duration;

/// A key prefix in a bucket, and the client and runtime that reach it.
pub struct Prefix {
    url: String,
    /// The key prefix without leading or trailing `/` (empty: the whole bucket).
    prefix: String,
    store: AmazonS3,
    runtime: Runtime,
}

/// The tokio runtime a [`Prefix`] owns, shut down without waiting when dropped (a
/// context dropped inside a user's async runtime must not block or panic there).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        match &self.0 {
            Some(rt) => rt.block_on(f),
            None => unreachable!("the runtime is taken only when dropped"),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// An object listed under a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// The key relative to the prefix (`name`, or `dir/name` in a recursive listing).
    pub key: String,
    /// Last-modified time, in milliseconds since the epoch.
    pub modified_ms: u64,
    /// Size in bytes.
    pub size: u64,
    /// The object's ETag, for a conditional update.
    pub e_tag: Option<String>,
}

/// How often a failed request is retried (by `object_store`'s client, with backoff).
const RETRIES: usize = 3;

/// Requests in flight at once for the calls that make several.
pub const CONCURRENT: usize = 8;

impl Prefix {
    /// The client of `url` (`s3://bucket/prefix`), configured from the environment.
    /// Nothing is requested yet: a wrong endpoint or credentials show at the first call.
    pub fn open(url: &str, bucket: &str, prefix: &str) -> Result<Prefix> {
        Self::open_with(url, bucket, prefix, AmazonS3Builder::from_env())
    }

    /// [`open`](Self::open) with the client's settings taken from `builder`.
    fn open_with(
        url: &str,
        bucket: &str,
        prefix: &str,
        builder: AmazonS3Builder,
    ) -> Result<Prefix> {
        let config = |e: &dyn std::fmt::Display| Error::ObjectStore {
            context: format!("cannot set up the object store client for {url}"),
            message: e.to_string(),
        };
        let store = builder
            .with_url(format!("s3://{bucket}"))
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: RETRIES,
                retry_timeout: Duration::from_secs(30),
            })
            .build()
            .map_err(|e| config(&e))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rill-object-store")
            .enable_all()
            .build()
            .map_err(|e| config(&e))?;
        Ok(Prefix {
            url: url.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            store,
            runtime: Runtime(Some(runtime)),
        })
    }

    /// The URL it was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The full key of `key` under the prefix: taken as it is (as a listing returned
    /// it), or, if it is not a valid key as it is, with its odd characters encoded.
    fn full(&self, key: &str) -> Key {
        let key = key.trim_start_matches('/');
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else if key.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}/{key}", self.prefix)
        };
        Key::parse(&full).unwrap_or_else(|_| Key::from(full))
    }

    /// `key` relative to the prefix (None for a key outside it).
    fn relative(&self, key: &Key) -> Option<String> {
        let key = key.as_ref();
        if self.prefix.is_empty() {
            return Some(key.to_string());
        }
        key.strip_prefix(self.prefix.as_str())?
            .strip_prefix('/')
            .map(str::to_string)
    }

    fn error(&self, what: &str, key: &str, e: impl std::fmt::Display) -> Error {
        let sep = if key.is_empty() || self.url.ends_with('/') {
            ""
        } else {
            "/"
        };
        Error::ObjectStore {
            context: format!("cannot {what} {}{sep}{key}", self.url),
            message: e.to_string(),
        }
    }

    /// Runs `f` to completion on the runtime (from another thread when called inside an
    /// async runtime, where blocking on one is not allowed).
    fn run<F: Future + Send>(&self, f: F) -> F::Output
    where
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| self.runtime.block_on(f))
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        } else {
            self.runtime.block_on(f)
        }
    }

    fn object(&self, meta: object_store::ObjectMeta) -> Option<Object> {
        Some(Object {
            key: self.relative(&meta.location)?,
            modified_ms: u64::try_from(meta.last_modified.timestamp_millis()).unwrap_or(0),
            size: meta.size,
            e_tag: meta.e_tag,
        })
    }

    /// Every object under `dir` (relative to the prefix; empty: the prefix itself),
    /// however deep, sorted by key.
    pub fn list(&self, dir: &str) -> Result<Vec<Object>> {
        let at = self.full(dir);
        let at = (!at.as_ref().is_empty()).then_some(at);
        let metas: Vec<object_store::ObjectMeta> = self
            .run(self.store.list(at.as_ref()).try_collect())
            .map_err(|e| self.error("list", dir, e))?;
        let mut out: Vec<Object> = metas.into_iter().filter_map(|m| self.object(m)).collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// The objects directly under `dir` (not those of its sub-prefixes), sorted by key.
    pub fn list_dir(&self, dir: &str) -> Result<Vec<Object>> {
        let at = self.full(dir);
        let at = (!at.as_ref().is_empty()).then_some(at);
        let listed = self
            .run(self.store.list_with_delimiter(at.as_ref()))
            .map_err(|e| self.error("list", dir, e))?;
        let mut out: Vec<Object> = listed
            .objects
            .into_iter()
            .filter_map(|m| self.object(m))
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// The bytes of `key`, or None if there is no such object.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.full(key);
        let got = self.run(async {
            match self.store.get(&path).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        got.map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| self.error("read", key, e))
    }

    /// The bytes of every object of `keys`, in order (None for a missing one), read
    /// [`CONCURRENT`] requests at a time.
    pub fn get_all(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let gets = keys.iter().map(|key| {
            let path = self.full(key);
            async move {
                match self.store.get(&path).await {
                    Ok(r) => r.bytes().await.map(|b| Some(b.to_vec())),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
                .map_err(|e| self.error("read", key, e))
            }
        });
        self.run(
            futures_util::stream::iter(gets)
                .buffered(CONCURRENT)
                .try_collect(),
        )
    }

    /// The listing entry of `key`, or None if there is no such object.
    pub fn head(&self, key: &str) -> Result<Option<Object>> {
        let path = self.full(key);
        match self.run(self.store.head(&path)) {
            Ok(m) => Ok(self.object(m)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error("inspect", key, e)),
        }
    }

    /// Writes `data` as `key`, replacing an object there (one PUT: readers see the old
    /// object or the new one, whole).
    pub fn put(&self, key: &str, data: Vec<u8>) -> Result<()> {
        self.put_mode(key, data, PutMode::Overwrite).map(|_| ())
    }

    /// Writes `data` as `key` only if no object is there (a conditional put,
    /// `If-None-Match: *`): false if one was.
    pub fn put_new(&self, key: &str, data: Vec<u8>) -> Result<bool> {
        self.put_mode(key, data, PutMode::Create)
    }

    /// Replaces the object `key` only if it is still the version with ETag `e_tag` (a
    /// conditional put, `If-Match`): false if it changed or went away.
    pub fn put_if(&self, key: &str, data: Vec<u8>, e_tag: &str) -> Result<bool> {
        let version = UpdateVersion {
            e_tag: Some(e_tag.to_string()),
            version: None,
        };
        self.put_mode(key, data, PutMode::Update(version))
    }

    fn put_mode(&self, key: &str, data: Vec<u8>, mode: PutMode) -> Result<bool> {
        let path = self.full(key);
        let put = self
            .store
            .put_opts(&path, PutPayload::from(data), mode.into());
        match self.run(put) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(false),
            Err(e) => Err(self.error("write", key, e)),
        }
    }

    /// Writes every `(key, data)`, [`CONCURRENT`] requests at a time, replacing objects
    /// there.
    pub fn put_all(&self, objects: Vec<(String, Vec<u8>)>) -> Result<()> {
        let puts = objects.into_iter().map(|(key, data)| {
            let path = self.full(&key);
            async move {
                self.store
                    .put(&path, PutPayload::from(data))
                    .await
                    .map_err(|e| self.error("write", &key, e))
            }
        });
        self.run(async {
            let mut puts = futures_util::stream::iter(puts).buffer_unordered(CONCURRENT);
            while let Some(done) = puts.next().await {
                done?;
            }
            Ok(())
        })
    }

    /// Deletes `key`; a missing object is not an error.
    pub fn delete(&self, key: &str) -> Result<()> {
        let path = self.full(key);
        match self.run(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("delete", key, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_joined_and_made_relative_to_the_prefix() {
        let p = Prefix::open("s3://b/in/", "b", "in/").unwrap();
        assert_eq!(p.full("a.txt").as_ref(), "in/a.txt");
        // A key as a listing returns it is used as it is, `%` included.
        assert_eq!(p.full("100%25.txt").as_ref(), "in/100%25.txt");
        assert_eq!(p.full("").as_ref(), "in");
        assert_eq!(p.relative(&Key::from("in/x/y")), Some("x/y".to_string()));
        assert_eq!(p.relative(&Key::from("inx/y")), None);
        let whole = Prefix::open("s3://b", "b", "").unwrap();
        assert_eq!(whole.full("a").as_ref(), "a");
        assert_eq!(whole.relative(&Key::from("a/b")), Some("a/b".to_string()));
    }

    /// A prefix on port 1 of loopback: nothing listens, every connection is refused.
    fn refused() -> Prefix {
        let builder = AmazonS3Builder::new()
            .with_endpoint("http://127.0.0.1:1")
            .with_allow_http(true)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_region("us-east-1");
        Prefix::open_with("s3://b/in", "b", "in", builder).unwrap()
    }

    #[test]
    fn calls_and_drops_inside_an_async_runtime_do_not_panic() {
        let outer = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        outer.block_on(async {
            let p = refused();
            assert!(matches!(p.list_dir(""), Err(Error::ObjectStore { .. })));
            drop(p);
        });
    }

    #[test]
    fn a_server_that_is_not_there_is_an_error_after_the_retries() {
        let p = refused();
        let started = std::time::Instant::now();
        let e = p.list_dir("").unwrap_err();
        let took = started.elapsed();
        match &e {
            Error::ObjectStore { context, .. } => {
                assert!(context.contains("cannot list s3://b/in"), "{e}")
            }
            other => panic!("not an object store error: {other}"),
        }
        // Three retries with backoff from 100 ms: well under the 30 s bound.
        assert!(took < Duration::from_secs(20), "{took:?}");
        assert!(matches!(
            p.put("k", b"x".to_vec()),
            Err(Error::ObjectStore { .. })
        ));
    }
}
