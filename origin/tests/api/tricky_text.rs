//! Text that breaks naive code: SQL, markup, format strings, bidi controls, 4-byte and combining
//! characters. Stored and returned byte for byte in every place it is read back, or refused with a 400
//! where the contract forbids it (usernames); lengths count characters, not bytes.

use reqwest::StatusCode;
use rookery_origin::testing::spawn_app;
use serde_json::json;

/// Each at least 6 characters, none with leading or trailing whitespace.
const TRICKY: &[&str] = &[
    "'; DROP TABLE tweets; --",
    "Robert'); DROP TABLE users; --",
    "\" OR \"1\"=\"1\" --",
    "\\'; SELECT SLEEP(10); -- \\",
    "<script>alert(document.cookie)</script>",
    "%00%27%22%3Cb%3E %s %n {0} {{x}} ${jndi:ldap://x/a}",
    "\u{200f}\u{202e}txet desrever\u{202c} \u{2066}isolate\u{2069}",
    "🐦🏳️‍🌈👩🏽‍💻 𝕏 𠜎 🇺🇳",
    "e\u{301}\u{301}\u{301} Z\u{336}a\u{337}l\u{338}g\u{335}o\u{334}",
    "zero\u{200b}width \u{feff}bom \u{fffd}replacement",
    "line one\nline two\ttab\r\nCRLF",
    "\\u0000 and \\x00 spelled out",
    "../../etc/passwd",
];

#[tokio::test]
async fn tricky_strings_round_trip_byte_for_byte_everywhere() {
    let app = spawn_app().await;
    let alice = app.signup("alice_tt").await;
    let (_, me) = app.get("/api/profiles/me/", Some(&alice.token)).await;
    let profile = format!("/api/profiles/{}/", me["id"]);
    for text in TRICKY {
        let tweet = app.post_tweet(&alice, text).await;
        assert_eq!(tweet["content"], *text, "as created");
        let id = tweet["id"].as_u64().expect("id");
        let comment = app.comment(&alice, id, text).await;
        assert_eq!(comment["content"], *text, "comment as created");
        let (status, body) = app.put(&profile, Some(&alice.token), json!({"nickname": text})).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let detail = app.tweet_detail(id, None).await;
        assert_eq!(detail["content"], *text, "detail");
        assert_eq!(detail["comments"][0]["content"], *text, "comment in detail");
        assert_eq!(detail["user"]["nickname"], *text, "nickname in detail");
        assert_eq!(app.tweet_in_list(&alice, id, None).await["content"], *text, "list");
        assert_eq!(app.tweet_in_feed(&alice, id).await["content"], *text, "feed");
        let (_, comments) = app.get(&format!("/api/comments/?tweet_id={id}"), None).await;
        assert_eq!(comments["comments"][0]["content"], *text, "comment list");
        let (_, me) = app.get("/api/profiles/me/", Some(&alice.token)).await;
        assert_eq!(me["nickname"], *text, "profile");
    }
    // The tables the SQL-looking strings name are all still there.
    let (status, _) = app.get(&format!("/api/tweets/?user_id={}", alice.id), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.collect_ids(&format!("/api/tweets/?user_id={}", alice.id), None).await.len(), TRICKY.len());
}

#[tokio::test]
async fn limits_count_characters_not_bytes_or_graphemes() {
    let app = spawn_app().await;
    let alice = app.signup("alice_tt").await;
    // 140 four-byte characters (560 bytes) fit; 141 do not.
    let (status, _) = app.post("/api/tweets/", Some(&alice.token), json!({"content": "𠜎".repeat(140)})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.post("/api/tweets/", Some(&alice.token), json!({"content": "𠜎".repeat(141)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["content"][0], "Ensure this field has no more than 140 characters.");
    // Five characters of 4 bytes each (20 bytes) are still too short.
    let (status, body) = app.post("/api/tweets/", Some(&alice.token), json!({"content": "🐦🐦🐦🐦🐦"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["content"][0], "Ensure this field has at least 6 characters.");
    let tweet_id = app.post_tweet(&alice, "a tweet to comment on").await["id"].as_u64().expect("id");
    let (status, _) = app
        .post("/api/comments/", Some(&alice.token), json!({"tweet_id": tweet_id, "content": "🐦".repeat(141)}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, me) = app.get("/api/profiles/me/", Some(&alice.token)).await;
    let nickname = "👩🏽‍💻".repeat(50); // 4 characters each: 200 characters, 700 bytes.
    let (status, body) =
        app.put(&format!("/api/profiles/{}/", me["id"]), Some(&alice.token), json!({"nickname": nickname})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["nickname"], nickname);
}

#[tokio::test]
async fn a_nul_character_is_stored_verbatim_or_refused_never_a_500() {
    let app = spawn_app().await;
    let alice = app.signup("alice_tt").await;
    let text = "nul\u{0}inside";
    let (status, body) = app.post("/api/tweets/", Some(&alice.token), json!({"content": text})).await;
    match status {
        StatusCode::CREATED => {
            let id = body["id"].as_u64().expect("id");
            assert_eq!(app.tweet_detail(id, None).await["content"], text);
        }
        StatusCode::BAD_REQUEST => assert_eq!(body["success"], false),
        other => panic!("{other}: {body}"),
    }
}

#[tokio::test]
async fn tricky_usernames_are_refused_with_400_and_find_no_one_at_login() {
    let app = spawn_app().await;
    app.signup("victim_01").await;
    for name in [
        "victim_01'; --",
        "' OR '1'='1",
        "Robert'); --",
        "<script>",
        "ñandú_01",
        "vi\u{301}ctim_01",
        "victim\u{200f}_01",
        "victim_01\u{0}",
        "victim%5f01",
        "ｖｉｃｔｉｍ＿０１",
        "victim_01 ",
        "𝕧𝕚𝕔𝕥𝕚𝕞_01",
    ] {
        let (status, body) = app
            .post(
                "/api/accounts/signup/",
                None,
                json!({"username": name, "email": "tricky@example.com", "password": "password1"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}: {body}");
        assert!(body["errors"]["username"].is_array(), "{name:?}: {body}");
        let (status, body) =
            app.post("/api/accounts/login/", None, json!({"username": name, "password": "correct horse"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}: {body}");
        assert_eq!(body["success"], false, "{name:?}: {body}");
        assert!(body.get("token").is_none(), "{name:?} logged in as someone: {body}");
    }
}

#[tokio::test]
async fn content_is_trimmed_and_control_characters_refused() {
    let app = spawn_app().await;
    let alice = app.signup("alice_cc").await;
    let tweet = app.post_tweet(&alice, "  \n padded on both sides \t ").await;
    assert_eq!(tweet["content"], "padded on both sides");
    let id = tweet["id"].as_u64().expect("id");
    for (path, body) in [
        ("/api/tweets/", json!({"content": "      \n\t   "})),
        ("/api/comments/", json!({"tweet_id": id, "content": " \n "})),
    ] {
        let (status, answer) = app.post(path, Some(&alice.token), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert_eq!(answer["errors"]["content"], json!(["This field may not be blank."]), "{path}");
    }
    for (text, why) in [
        ("null \u{0} inside it", "Null characters are not allowed."),
        ("escape \u{1b}[2J clears screens", "Control characters are not allowed."),
        ("a bell \u{7} rings here", "Control characters are not allowed."),
    ] {
        for (path, body) in
            [("/api/tweets/", json!({"content": text})), ("/api/comments/", json!({"tweet_id": id, "content": text}))]
        {
            let (status, answer) = app.post(path, Some(&alice.token), body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {text:?}: {answer}");
            assert_eq!(answer["errors"]["content"], json!([why]), "{path} {text:?}");
        }
    }
    assert_eq!(
        app.collect_ids(&format!("/api/tweets/?user_id={}", alice.id), None).await,
        [id],
        "nothing refused was stored"
    );
}
