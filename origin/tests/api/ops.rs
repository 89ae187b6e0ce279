//! The operations commands' library functions, against the test's own database.

use rookery_origin::{
    newsfeed::timeline::{self, Kind, Read, Window},
    ops::{feeds, seed},
    testing::spawn_app,
};

#[tokio::test]
async fn seed_builds_a_consistent_skewed_graph_and_working_tokens() {
    let app = spawn_app().await;
    let state = rookery_origin::state::AppState::connect(app.config.clone()).await.expect("state");
    let options = seed::SeedOptions {
        users: 300,
        follows_per_user: 10,
        tweets_per_user: 3,
        tokens: 5,
        tokens_out: std::env::temp_dir().join(format!("{}tokens.txt", app.config.redis.prefix.trim_end_matches(':'))),
        seed: 7,
        skew: 1.0,
    };
    let report = seed::run(&state, &options, false).await.expect("seeded");
    assert_eq!(report.users.len(), 300);
    assert_eq!(report.tweets, 900);
    assert!(report.follows > 2_500, "{}", report.follows);

    // Counters agree with the rows.
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_stats s WHERE s.followers_count <> (SELECT COUNT(*) FROM friendships f WHERE f.to_user_id = s.user_id) \
         OR s.tweets_count <> (SELECT COUNT(*) FROM tweets t WHERE t.user_id = s.user_id)",
    )
    .fetch_one(&state.db)
    .await
    .expect("count");
    assert_eq!(mismatched, 0);
    // Skewed: the most followed user has far more followers than the average of 10.
    let top: u32 =
        sqlx::query_scalar("SELECT MAX(followers_count) FROM user_stats").fetch_one(&state.db).await.expect("max");
    assert!(top > 40, "{top}");

    let tokens = std::fs::read_to_string(&options.tokens_out).expect("tokens file");
    std::fs::remove_file(&options.tokens_out).ok();
    let tokens: Vec<&str> = tokens.lines().collect();
    assert_eq!(tokens.len(), 5);
    let (status, body) = app.get("/api/accounts/login_status/", Some(tokens[0])).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(body["user"]["id"], report.users[0].0);
    let feed = app.get("/api/newsfeeds/", Some(tokens[1])).await.1;
    assert_eq!(feed["results"].as_array().map(Vec::len), Some(20), "{feed}");
}

#[tokio::test]
async fn feeds_rebuild_restores_a_dropped_timeline() {
    let app = spawn_app().await;
    let reader = app.signup("reader_o").await;
    let mut posted = Vec::new();
    for i in 0..5 {
        posted.push(app.post_tweet(&reader, &format!("rebuild me {i}")).await["id"].as_u64().expect("id"));
    }
    posted.reverse();
    let state = rookery_origin::state::AppState::connect(app.config.clone()).await.expect("state");
    let user = rookery_shared::ids::UserId(reader.id);
    timeline::drop_timeline(&state.redis, Kind::Home, user).await.expect("drop");
    let window = Window { below: None, from: None, limit: 20 };
    assert!(matches!(timeline::read(&state.redis, Kind::Home, user, window).await.expect("read"), Read::Missing));
    feeds::rebuild_user(&state, user).await.expect("rebuilt");
    match timeline::read(&state.redis, Kind::Home, user, window).await.expect("read") {
        Read::Hit(ids) => assert_eq!(ids, posted),
        other => panic!("expected a hit, got {other:?}"),
    }
    assert_eq!(feeds::rebuild_all(&state, false).await.expect("all"), 1);
}
