//! A user's own profile, and changes to it (owner only) that invalidate the cached user shape
//! ([`crate::read::users`]).

use rookery_shared::{
    ids::{ProfileId, UserId},
    profiles::{MyProfile, ProfileUpdated, UpdateProfile},
};

use super::store::{self, ProfileRow};
use crate::{
    auth::AuthUser,
    error::{ApiError, Result},
    ids::now_micros,
    media::{self, form::UploadForm, key::Folder},
    read,
    state::AppState,
};

const NOT_A_FILE: &str = "The submitted data was not a file. Check the encoding type on the form.";

pub async fn me(state: &AppState, user: UserId) -> Result<MyProfile> {
    let row = store::profile_of(&state.db, user).await?.ok_or(ApiError::NotFound)?;
    Ok(MyProfile {
        id: row.id,
        user_id: row.user_id,
        nickname: row.nickname,
        avatar_url: row.avatar_key.map(|key| media::service::url(state, &key)),
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
    read::users::forget(state, user.user_id).await;
    if let Some(old) = old_avatar.filter(|old| row.avatar_key.as_ref() != Some(old)) {
        media::service::discard(state, &[old]).await;
    }
    tracing::info!(profile_id = %id, "profile updated");
    Ok(ProfileUpdated { nickname: row.nickname, avatar: row.avatar_key.map(|key| media::service::url(state, &key)) })
}
