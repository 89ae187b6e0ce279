//! Request bodies that exist only as `multipart/form-data` (text fields plus files), described for the
//! OpenAPI document. The handlers read them with [`crate::media::form::UploadForm`]; nothing builds these
//! types.

use utoipa::ToSchema;

/// An uploaded image file: JPEG, PNG, GIF or WebP, recognised by its content, at most `MEDIA_MAX_BYTES`
/// (5 MiB by default).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
#[expect(dead_code, reason = "describes a file part; never built")]
pub struct ImageFile(Vec<u8>);

/// `POST /api/tweets/` with photos: the text and up to nine images, shown in the order sent.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a multipart body; never built")]
pub struct TweetUpload {
    /// 6–140 characters.
    #[schema(min_length = 6, max_length = 140, example = "Photos from the summit")]
    content: String,
    /// Up to nine images; more is a 400 with `errors.files`.
    #[schema(max_items = 9, required = false)]
    files: Vec<ImageFile>,
}

/// `PUT`/`PATCH /api/profiles/<id>/` with a new avatar. Absent fields are left as they are.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a multipart body; never built")]
pub struct ProfileUpload {
    /// Up to 200 characters; an empty value clears it.
    #[schema(max_length = 200, example = "Linghu Chong")]
    nickname: Option<String>,
    /// The new avatar; the previous one's file is deleted.
    avatar: Option<ImageFile>,
}
