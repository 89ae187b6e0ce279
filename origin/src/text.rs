//! User-written text (tweet and comment content) as the contract takes it: surrounding white space is
//! trimmed before the length rules, as Django REST framework's `CharField` does, and control characters
//! are refused (line breaks and tabs are text; NUL, escape sequences and the like are not).

use crate::error::{ApiError, Result};

/// The trimmed text, or the field's validation failure.
pub fn content(field: &str, raw: &str, min_chars: usize, max_chars: usize) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ApiError::field(field, "This field may not be blank."));
    }
    if text.contains('\0') {
        return Err(ApiError::field(field, "Null characters are not allowed."));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ApiError::field(field, "Control characters are not allowed."));
    }
    let count = text.chars().count();
    if count < min_chars {
        return Err(ApiError::field(field, format!("Ensure this field has at least {min_chars} characters.")));
    }
    if count > max_chars {
        return Err(ApiError::field(field, format!("Ensure this field has no more than {max_chars} characters.")));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(raw: &str) -> Option<String> {
        match content("content", raw, 6, 140) {
            Ok(_) => None,
            Err(ApiError::Invalid(errors)) => errors.get("content").and_then(|e| e.first().cloned()),
            Err(other) => Some(other.to_string()),
        }
    }

    #[test]
    fn trims_before_counting() {
        assert_eq!(content("content", "  hello world \n", 6, 140).ok().as_deref(), Some("hello world"));
        assert_eq!(reason(" \t\n "), Some("This field may not be blank.".into()));
        assert_eq!(reason("   abc     "), Some("Ensure this field has at least 6 characters.".into()));
        assert_eq!(reason(&format!("  {}  ", "x".repeat(140))), None);
    }

    #[test]
    fn refuses_control_characters_but_not_line_breaks_or_tabs() {
        assert_eq!(
            content("content", "line one\nline\ttwo\r\nthree", 6, 140).ok().as_deref(),
            Some("line one\nline\ttwo\r\nthree")
        );
        assert_eq!(reason("hello\0world"), Some("Null characters are not allowed.".into()));
        assert_eq!(reason("hello \u{1b}[31mred"), Some("Control characters are not allowed.".into()));
        assert_eq!(reason("bell \u{7} ringing"), Some("Control characters are not allowed.".into()));
        assert_eq!(reason("next line \u{85} here"), Some("Control characters are not allowed.".into()));
    }
}
