//! Email addresses as Rookery stores and compares them.
//!
//! Two spellings of one address must be one account, and two addresses must never be one account
//! because a database collation finds them alike. So an address is normalised before it is checked,
//! stored or looked up, and then compared byte for byte (the column's collation is binary):
//! - NFKC: full-width and other compatibility forms become their plain letters (`ｆｕｌｌ` is `full`),
//!   composed and decomposed accents become one form;
//! - lower case throughout (the local part too: no mail provider people use tells cases apart);
//! - the domain in its ASCII (IDNA) form, so a Cyrillic look-alike domain is `xn--…`, visibly another
//!   domain.
//!
//! A local part or domain label that mixes Latin with Cyrillic or Greek letters (`pаypal` with a Cyrillic
//! `а`) is refused: it exists to look like something it is not.

use unicode_normalization::UnicodeNormalization;

/// The normalised address, or `None` when it is not one Rookery accepts.
pub fn normalize(raw: &str) -> Option<String> {
    let text: String = raw.trim().nfkc().collect::<String>().to_lowercase();
    let (local, domain) = text.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || mixes_scripts(local) || domain.split('.').any(mixes_scripts) {
        return None;
    }
    let domain = idna::domain_to_ascii(domain).ok()?;
    Some(format!("{local}@{domain}"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
}

fn script(c: char) -> Option<Script> {
    match c {
        'a'..='z' | 'A'..='Z' | '\u{00c0}'..='\u{024f}' | '\u{1e00}'..='\u{1eff}' => Some(Script::Latin),
        '\u{0370}'..='\u{03ff}' | '\u{1f00}'..='\u{1fff}' => Some(Script::Greek),
        '\u{0400}'..='\u{052f}' => Some(Script::Cyrillic),
        _ => None,
    }
}

/// Whether `text` has letters of more than one of the scripts whose letters look alike.
fn mixes_scripts(text: &str) -> bool {
    let mut seen = None;
    for found in text.chars().filter_map(script) {
        match seen {
            None => seen = Some(found),
            Some(first) if first != found => return true,
            Some(_) => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_has_one_form() {
        assert_eq!(normalize(" FullX@Example.COM ").as_deref(), Some("fullx@example.com"));
        assert_eq!(normalize("ｆｕｌｌX@ex.com").as_deref(), Some("fullx@ex.com"));
        // Composed and decomposed ü are one address, and not the plain u.
        let composed = normalize("f\u{fc}llx@ex.com");
        assert_eq!(composed, normalize("fu\u{308}llx@ex.com"));
        assert_ne!(composed, normalize("fullx@ex.com"));
        assert_eq!(normalize("me@bücher.example").as_deref(), Some("me@xn--bcher-kva.example"));
    }

    #[test]
    fn look_alikes_are_other_addresses_or_refused() {
        // An all-Cyrillic domain is a different (punycode) domain, never the Latin one.
        let cyrillic = normalize("fullx@ех.com").expect("a valid address");
        assert!(cyrillic.contains("xn--"), "{cyrillic}");
        assert_ne!(Some(cyrillic), normalize("fullx@ex.com"));
        // Latin and Cyrillic letters mixed in one label exist only to deceive.
        assert_eq!(normalize("p\u{430}ypal@example.com"), None);
        assert_eq!(normalize("me@p\u{430}ypal.com"), None);
        assert_eq!(normalize("\u{3b1}lpha@example.com"), None, "Greek alpha before Latin letters");
        assert!(normalize("иван@пример.рф").is_some(), "one script throughout is fine");
    }
}
