//! Field rules of signup and login, with Django REST framework's wording.

use std::collections::BTreeMap;

pub const REQUIRED: &str = "This field is required.";

/// Collects per-field errors in the contract's `errors` shape.
#[derive(Default)]
pub struct Errors(BTreeMap<String, Vec<String>>);

impl Errors {
    pub fn add(&mut self, field: &str, why: impl Into<String>) {
        self.0.entry(field.to_owned()).or_default().push(why.into());
    }

    pub fn into_result(self) -> Result<(), BTreeMap<String, Vec<String>>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Checks a required string's presence and length in characters; returns it when present.
pub fn length<'a>(errors: &mut Errors, field: &str, value: Option<&'a str>, min: usize, max: usize) -> Option<&'a str> {
    let Some(value) = value else {
        errors.add(field, REQUIRED);
        return None;
    };
    let count = value.chars().count();
    if count < min {
        errors.add(field, format!("Ensure this field has at least {min} characters."));
    } else if count > max {
        errors.add(field, format!("Ensure this field has no more than {max} characters."));
    }
    Some(value)
}

pub fn username(errors: &mut Errors, value: Option<&str>) {
    if let Some(value) = length(errors, "username", value, 6, 20) {
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            errors.add("username", "Username may contain only letters, digits and underscores.");
        }
    }
}

pub fn email(errors: &mut Errors, value: Option<&str>) {
    let Some(value) = value else {
        errors.add("email", REQUIRED);
        return;
    };
    if !is_email(value) || super::email::normalize(value).is_none() {
        errors.add("email", "Enter a valid email address.");
    }
}

pub fn password(errors: &mut Errors, value: Option<&str>) {
    password_named(errors, "password", value);
}

/// The password rules for a field of another name (`new_password`).
pub fn password_named(errors: &mut Errors, field: &str, value: Option<&str>) {
    length(errors, field, value, 6, 128);
}

/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain of sane characters, no
/// spaces or control characters, at most 254 characters.
fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else { return false };
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    value.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '@' | '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']')
        })
        && domain.contains('.')
        && labels_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in ["a@b.co", "first.last+tag@example.org", "x_y@sub.domain.io"] {
            assert!(is_email(good), "{good}");
        }
        for bad in ["", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@b..c", "a@-b.c", "a@b.c@d.e"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn usernames() {
        let mut e = Errors::default();
        username(&mut e, Some("linghu_01"));
        assert!(e.into_result().is_ok());
        for bad in ["short", "has space1", "toolong_toolong_toolong", "emoji😀x"] {
            let mut e = Errors::default();
            username(&mut e, Some(bad));
            assert!(e.into_result().is_err(), "{bad}");
        }
    }
}
