//! The object store behind uploads: a local directory by default, or whatever `MEDIA_URL` names
//! (`s3://bucket/prefix` for any S3-compatible store, `memory:///` for throwaway runs).

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use object_store::{local::LocalFileSystem, path::Path, prefix::PrefixStore, ObjectStore, PutPayload};

use super::config::MediaConfig;

/// Opens the configured store. A local directory is created if missing.
pub fn open(config: &MediaConfig) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if let Some(url) = &config.url {
        let parsed = url::Url::parse(url).context("MEDIA_URL is not a URL")?;
        let (store, prefix) = object_store::parse_url_opts(&parsed, config.options.0.iter().cloned())
            .context("MEDIA_URL names no supported object store")?;
        if prefix.as_ref().is_empty() {
            return Ok(Arc::from(store));
        }
        return Ok(Arc::new(PrefixStore::new(store, prefix)));
    }
    std::fs::create_dir_all(&config.dir)
        .with_context(|| format!("while creating MEDIA_DIR {}", config.dir.display()))?;
    let local = LocalFileSystem::new_with_prefix(&config.dir)
        .with_context(|| format!("while opening MEDIA_DIR {}", config.dir.display()))?;
    Ok(Arc::new(local))
}

#[tracing::instrument(skip(store, bytes), fields(len = bytes.len()))]
pub async fn put(store: &dyn ObjectStore, key: &str, bytes: Bytes) -> anyhow::Result<()> {
    store
        .put(&Path::from(key), PutPayload::from_bytes(bytes))
        .await
        .with_context(|| format!("while storing {key}"))
        .map(drop)
}

/// The object's bytes; `Ok(None)` when there is no such object.
#[tracing::instrument(skip(store))]
pub async fn get(store: &dyn ObjectStore, key: &str) -> anyhow::Result<Option<Bytes>> {
    match store.get(&Path::from(key)).await {
        Ok(found) => Ok(Some(found.bytes().await.with_context(|| format!("while reading {key}"))?)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(error) => Err(error).with_context(|| format!("while opening {key}")),
    }
}

/// Deletes objects; a missing one is not an error. Failures are logged: an orphaned file costs space,
/// not correctness (its key is unguessable and no row names it).
pub async fn delete_all(store: &dyn ObjectStore, keys: &[String]) {
    for key in keys {
        match store.delete(&Path::from(key.as_str())).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => tracing::warn!(key, %error, "could not delete a media object"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{super::config::Options, *};

    #[tokio::test]
    async fn s3_and_memory_urls_open_without_network() {
        let mut config = crate::testing::test_config().media;
        config.url = Some("s3://rookery-media/uploads".into());
        config.options = Options(vec![
            ("endpoint".into(), "http://127.0.0.1:9000".into()),
            ("region".into(), "us-east-1".into()),
            ("access_key_id".into(), "key".into()),
            ("secret_access_key".into(), "secret".into()),
            ("allow_http".into(), "true".into()),
        ]);
        assert!(open(&config).is_ok());
        assert_eq!(
            format!("{:?}", config.options),
            "[\"endpoint\", \"region\", \"access_key_id\", \"secret_access_key\", \"allow_http\"]"
        );

        config.url = Some("memory:///".into());
        let store = open(&config).expect("an in-memory store");
        put(store.as_ref(), "photos/a.png", Bytes::from_static(b"x")).await.expect("put");
        assert_eq!(get(store.as_ref(), "photos/a.png").await.expect("get").as_deref(), Some(&b"x"[..]));
        delete_all(store.as_ref(), &["photos/a.png".into(), "photos/none.png".into()]).await;
        assert!(get(store.as_ref(), "photos/a.png").await.expect("get").is_none());
    }
}
