//! Feature switches: the `fanout_hybrid` gate through the API on both sides, a partial rollout that
//! follows the per-author decision, and the `origin switch` commands.

use std::{collections::HashSet, process::Command, time::Duration};

use rookery_origin::{
    cache::Redis,
    newsfeed::timeline::{self, Kind},
    switches::{
        self,
        service::{in_rollout, CACHE_TTL},
        Switches,
    },
    testing::{eventually, spawn_app, spawn_app_with, Account, TestApp},
};
use rookery_shared::ids::UserId;

async fn planned(app: &TestApp) -> (f64, f64) {
    let metrics = app.metrics().await;
    let pushed = metrics.value(r#"rookery_fanout_plans_total{outcome="pushed"}"#);
    let pulled = metrics.value(r#"rookery_fanout_plans_total{outcome="pulled"}"#);
    (pushed, pulled)
}

/// Whether the tweet is in `reader`'s Redis home timeline (was pushed to it).
async fn pushed_to(app: &TestApp, reader: &Account, tweet: u64) -> bool {
    let redis = Redis::new(&app.config.redis).expect("a Redis URL");
    let mut conn = redis.conn().await.expect("Redis");
    let key = timeline::key(&redis, Kind::Home, UserId(reader.id));
    let score: Option<f64> = redis::cmd("ZSCORE").arg(&key).arg(tweet).query_async(&mut conn).await.expect("ZSCORE");
    score.is_some()
}

fn feed_ids(page: &serde_json::Value) -> Vec<u64> {
    page["results"].as_array().expect("results").iter().map(|item| item["id"].as_u64().expect("an id")).collect()
}

#[tokio::test]
async fn fanout_hybrid_decides_whether_high_follower_authors_are_pushed_or_pulled() {
    // Two followers put the star above the threshold.
    let app = spawn_app_with(|c| c.fanout.hybrid_threshold = 1).await;
    let ops = rookery_origin::state::AppState::connect(app.config.clone()).await.expect("a second process's state");
    ops.switches.set("fanout_hybrid", 0).await.expect("switched off");

    let star = app.signup("star_sw").await;
    let fans = [app.signup("fan_sw_1").await, app.signup("fan_sw_2").await];
    for fan in &fans {
        app.follow(fan, &star).await;
        app.feed(fan, "").await; // opens the home timeline, so deliveries land in it
    }

    // Off: pushed to every follower like any author.
    let first = app.post_tweet(&star, "pushed while the switch is off").await["id"].as_u64().expect("id");
    assert!(
        eventually(Duration::from_secs(30), || async { planned(&app).await == (1.0, 0.0) }).await,
        "planned as pushed: {:?}",
        planned(&app).await
    );
    for fan in &fans {
        assert!(
            eventually(Duration::from_secs(30), || pushed_to(&app, fan, first)).await,
            "not pushed to {}",
            fan.username
        );
        assert_eq!(feed_ids(&app.feed(fan, "").await), vec![first], "shown once, though both pushed and merged");
    }

    // On, set from another process: applied by the origin within the cache's bound, without a restart.
    ops.switches.set("fanout_hybrid", 100).await.expect("switched on");
    tokio::time::sleep(CACHE_TTL + Duration::from_millis(300)).await;
    let second = app.post_tweet(&star, "pulled once the switch is on").await["id"].as_u64().expect("id");
    assert!(
        eventually(Duration::from_secs(30), || async { planned(&app).await == (1.0, 1.0) }).await,
        "planned as pulled: {:?}",
        planned(&app).await
    );
    for fan in &fans {
        assert!(!pushed_to(&app, fan, second).await, "pushed to {} although pulled", fan.username);
        // Both tweets still reach the feed: the first from the home timeline, the second merged at read time.
        assert_eq!(feed_ids(&app.feed(fan, "").await), vec![second, first]);
    }
}

#[tokio::test]
async fn a_partial_rollout_pulls_exactly_the_authors_inside_it() {
    let app = spawn_app_with(|c| c.fanout.hybrid_threshold = 1).await;
    let ops = rookery_origin::state::AppState::connect(app.config.clone()).await.expect("a second process's state");
    ops.switches.set("fanout_hybrid", 50).await.expect("set to half");

    let fans = [app.signup("fan_half_1").await, app.signup("fan_half_2").await];
    let mut stars = Vec::new();
    for i in 0..8 {
        let star = app.signup(&format!("star_half_{i}")).await;
        for fan in &fans {
            app.follow(fan, &star).await;
        }
        stars.push(star);
    }
    app.feed(&fans[0], "").await;
    let mut tweets = Vec::new();
    for star in &stars {
        tweets.push(app.post_tweet(star, "half of us are pulled").await["id"].as_u64().expect("id"));
    }
    let inside = stars.iter().filter(|star| in_rollout("fanout_hybrid", star.id, 50)).count();
    let expected = ((stars.len() - inside) as f64, inside as f64);
    assert!(
        eventually(Duration::from_secs(30), || async { planned(&app).await == expected }).await,
        "{:?} planned, {expected:?} expected",
        planned(&app).await
    );
    for (star, tweet) in stars.iter().zip(&tweets) {
        let pulled = in_rollout("fanout_hybrid", star.id, 50);
        if !pulled {
            assert!(
                eventually(Duration::from_secs(30), || pushed_to(&app, &fans[0], *tweet)).await,
                "{} was outside the rollout",
                star.username
            );
        } else {
            assert!(!pushed_to(&app, &fans[0], *tweet).await, "{} was inside the rollout", star.username);
        }
    }
    // Either way every tweet is in the feed, once.
    let shown: HashSet<u64> = feed_ids(&app.feed(&fans[0], "").await).into_iter().collect();
    assert_eq!(shown, tweets.iter().copied().collect());
}

#[tokio::test]
async fn an_unset_switch_has_its_declared_default_and_an_unknown_one_is_off() {
    let app = spawn_app().await;
    let state = rookery_origin::state::AppState::connect(app.config.clone()).await.expect("state");
    assert_eq!(state.switches.percent(&switches::FANOUT_HYBRID).await, 100);
    let undeclared = switches::Known { name: "not_declared", default_percent: 0, about: "" };
    assert!(!state.switches.is_on(&undeclared, 7).await);
    assert!(state.switches.set("Not Valid", 5).await.is_err());
    assert!(state.switches.set("fanout_hybrid", 101).await.is_err());
}

/// Runs `origin switch …` against the test's database; returns (success, stdout, stderr).
fn origin(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_origin"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", &app.config.db.url)
        .env("ROOKERY_ENV", "test")
        .output()
        .expect("origin runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8 output");
    (output.status.success(), text(output.stdout), text(output.stderr))
}

#[tokio::test]
async fn switch_commands_set_and_list() {
    let app = spawn_app().await;

    let (ok, out, _) = origin(&app, &["switch", "list"]);
    assert!(ok);
    let row = out.lines().find(|line| line.starts_with("fanout_hybrid")).unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("100 %") && row.contains("default"), "{row}");

    let (ok, out, err) = origin(&app, &["switch", "set", "fanout_hybrid", "25"]);
    assert!(ok, "{err}");
    assert!(out.contains("fanout_hybrid set to 25 %"), "{out}");
    let (ok, out, err) = origin(&app, &["switch", "set", "edge_feed_cache", "5"]);
    assert!(ok, "{err}");
    assert!(out.contains("warning: no code reads a switch called \"edge_feed_cache\""), "{out}");

    let (ok, out, _) = origin(&app, &["switch", "list"]);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NAME") && lines[0].contains("PERCENT"), "{out}");
    assert!(
        lines[1].starts_with("edge_feed_cache") && lines[1].contains("5 %") && lines[1].contains("not read"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("fanout_hybrid") && lines[2].contains("25 %") && !lines[2].contains("default"),
        "{out}"
    );

    for bad in [["fanout_hybrid", "101"], ["fanout_hybrid", "-1"], ["Fanout Hybrid", "10"]] {
        let (ok, _, err) = origin(&app, &["switch", "set", "--", bad[0], bad[1]]);
        assert!(!ok, "accepted {bad:?}");
        assert!(!err.is_empty());
    }

    // What the command stored is what the origin's processes decide by.
    let pool = sqlx::MySqlPool::connect(&app.config.db.url).await.expect("the test database");
    assert_eq!(Switches::new(rookery_origin::db::Db::new(pool)).percent(&switches::FANOUT_HYBRID).await, 25);
}
