//! `UserWithProfile` lookups through the Redis object cache, and profile changes (owner only) that
//! invalidate it.

use std::collections::HashMap;

use rookery_shared::{
    ids::{ProfileId, UserId},
    profiles::{MyProfile, ProfileUpdated, UpdateProfile},
    users::UserWithProfile,
};

use super::store::{self, ProfileRow};
use crate::{
    auth::AuthUser,
    error::{ApiError, Result},
    ids::now_micros,
    media::{self, form::UploadForm, key::Folder},
    state::AppState,
};

const USER_CACHE_SECS: u64 = 3600;

fn cache_key(state: &AppState, id: UserId) -> String {
    state.redis.key(format_args!("user:{id}"))
}

/// The users with these ids that exist, cached. One MGET; misses from one MySQL query.
pub async fn users(state: &AppState, ids: &[UserId]) -> Result<HashMap<UserId, UserWithProfile>> {
    let mut unique: Vec<UserId> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let keys: Vec<String> = unique.iter().map(|id| cache_key(state, *id)).collect();
    let cached: Vec<Option<UserWithProfile>> = state.redis.get_json(&keys).await;
    let mut found = HashMap::with_capacity(unique.len());
    let mut missing = Vec::new();
    for (id, hit) in unique.iter().zip(cached) {
        match hit {
            Some(user) => {
                found.insert(*id, user);
            }
            None => missing.push(*id),
        }
    }
    state.metrics.cache_lookups("user", found.len(), missing.len());
    if !missing.is_empty() {
        let rows = store::users_with_profiles(&state.db, &missing).await?;
        let mut fill = Vec::with_capacity(rows.len());
        for row in rows {
            let user = UserWithProfile {
                id: row.id,
                username: row.username,
                nickname: row.nickname,
                avatar_url: row.avatar_key.map(|key| media_url(state, &key)),
            };
            fill.push((cache_key(state, user.id), user.clone()));
            found.insert(user.id, user);
        }
        state.redis.fill_json(&fill, USER_CACHE_SECS).await;
    }
    Ok(found)
}

/// Drops a user's cached shape after a profile change (and keeps stale copies out, see
/// [`crate::cache::Redis::invalidate`]).
pub async fn forget(state: &AppState, id: UserId) {
    if let Err(error) = state.redis.invalidate(&[cache_key(state, id)]).await {
        tracing::warn!(%error, user_id = %id, "could not drop a cached user");
    }
}

/// The absolute URL of a stored media object.
pub fn media_url(state: &AppState, key: &str) -> String {
    media::service::url(state, key)
}

const NOT_A_FILE: &str = "The submitted data was not a file. Check the encoding type on the form.";

pub async fn me(state: &AppState, user: UserId) -> Result<MyProfile> {
    let row = store::profile_of(&state.db, user).await?.ok_or(ApiError::NotFound)?;
    Ok(MyProfile {
        id: row.id,
        user_id: row.user_id,
        nickname: row.nickname,
        avatar_url: row.avatar_key.map(|key| media_url(state, &key)),
    })
}

/// Changes the nickname and/or the avatar of the caller's own profile. Fields left out stay as they are;
/// `null` or `""` clears them. A new avatar is stored before the row changes and removed again if the
/// change fails; the replaced one is removed after it.
pub async fn update(
    state: &AppState,
    user: AuthUser,
    id: ProfileId,
    form: UploadForm<UpdateProfile>,
) -> Result<ProfileUpdated> {
    let owner = store::profile(&state.db, id).await?.ok_or(ApiError::NotFound)?.user_id;
    if owner != user.user_id {
        return Err(ApiError::Forbidden);
    }
    let avatar_file = form.files_in("avatar").next().cloned();
    let UpdateProfile { nickname, avatar } = form.fields;
    let mut errors = std::collections::BTreeMap::<String, Vec<String>>::new();
    // `None`: leave as it is; `Some(None)`: clear.
    let nickname: Option<Option<String>> = match nickname {
        None => None,
        Some(None) => Some(None),
        Some(Some(text)) if text.is_empty() => Some(None),
        Some(Some(text)) if text.chars().count() > 200 => {
            errors.insert("nickname".into(), vec!["Ensure this field has no more than 200 characters.".into()]);
            None
        }
        Some(Some(text)) => Some(Some(text)),
    };
    let mut new_avatar = None;
    let mut clear_avatar = false;
    if let Some(file) = avatar_file {
        match media::service::validate(state, &file) {
            Ok(image) => new_avatar = Some(image),
            Err(why) => {
                errors.insert("avatar".into(), vec![why]);
            }
        }
    } else {
        match avatar {
            None => {}
            Some(None) => clear_avatar = true,
            Some(Some(serde_json::Value::String(text))) if text.is_empty() => clear_avatar = true,
            Some(Some(_)) => {
                errors.insert("avatar".into(), vec![NOT_A_FILE.into()]);
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }

    let stored = match new_avatar {
        Some(image) => media::service::store(state, Folder::Avatars, vec![image]).await?,
        None => Vec::new(),
    };
    // Applied to the row as it is under the lock, so concurrent updates of the other field are kept
    // and the avatar replaced is the one really replaced.
    let changed: Result<(ProfileRow, Option<String>)> = async {
        let mut tx = state.db.begin().await?;
        let mut row = store::profile_for_update(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
        let old_avatar = row.avatar_key.clone();
        if let Some(nickname) = nickname {
            row.nickname = nickname;
        }
        if let Some(key) = stored.first() {
            row.avatar_key = Some(key.clone());
        } else if clear_avatar {
            row.avatar_key = None;
        }
        store::update(&mut *tx, &row, now_micros()).await?;
        tx.commit().await?;
        Ok((row, old_avatar))
    }
    .await;
    let (row, old_avatar) = match changed {
        Ok(changed) => changed,
        Err(error) => {
            media::service::discard(state, &stored).await;
            return Err(error);
        }
    };
    forget(state, user.user_id).await;
    if let Some(old) = old_avatar.filter(|old| row.avatar_key.as_ref() != Some(old)) {
        media::service::discard(state, &[old]).await;
    }
    tracing::info!(profile_id = %id, "profile updated");
    Ok(ProfileUpdated { nickname: row.nickname, avatar: row.avatar_key.map(|key| media_url(state, &key)) })
}
