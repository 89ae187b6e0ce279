//! Bodies of `/api/profiles/*`.

use serde::{Deserialize, Serialize};

use crate::ids::{ProfileId, UserId};

/// `GET /api/profiles/me/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyProfile {
    pub id: ProfileId,
    pub user_id: UserId,
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
}

/// `PUT`/`PATCH /api/profiles/<id>/` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileUpdated {
    pub nickname: Option<String>,
    /// The avatar's absolute URL.
    pub avatar: Option<String>,
}

/// The text fields of a profile update (the avatar file comes as a multipart part). Absent fields are
/// left as they are; `null` (or an empty string) clears them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProfile {
    /// Up to 200 characters; `null` or `""` clears it.
    #[serde(default, deserialize_with = "crate::input::present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 200, example = "Linghu Chong"))]
    pub nickname: Option<Option<String>>,
    /// Only `null` or `""` (remove the avatar) is meaningful as a text field.
    #[serde(default, deserialize_with = "crate::input::present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 0))]
    pub avatar: Option<Option<serde_json::Value>>,
}
