//! Node ids leased in MySQL: processes sharing a database never share a node id, none is handed out twice,
//! a full table refuses, a released or lapsed lease is taken again, and a process that lost its lease
//! switches its generator to a free id.

use std::{collections::HashSet, sync::Arc, time::Duration};

use rookery_origin::{
    db::{self, Db},
    ids::IdGenerator,
    node_lease::NodeLease,
    state::AppState,
};

use rookery_origin::testing::spawn_app;

const TTL: Duration = Duration::from_secs(30);

async fn lease(db: &Db, wanted: Option<u16>) -> anyhow::Result<Arc<NodeLease>> {
    NodeLease::acquire(db.clone(), wanted, TTL).await
}

#[tokio::test]
async fn processes_on_one_database_get_distinct_node_ids_and_a_full_table_refuses() {
    let app = spawn_app().await;
    // A second process's state on the same database: it must not take the running origin's id.
    let second = AppState::connect(app.config.clone()).await.expect("a second process");
    let db = db::connect_and_migrate(&app.config).await.expect("the database");
    let mut held = vec![second.node_lease.clone()];
    while held.len() < 15 {
        held.push(lease(&db, None).await.expect("a free node id"));
    }
    let nodes: HashSet<u16> = held.iter().map(|l| l.node()).collect();
    assert_eq!(nodes.len(), 15, "every lease has its own id");
    assert!(!nodes.contains(&0), "the running origin, first to start, holds 0");

    let refused = lease(&db, None).await.expect_err("no node id is free");
    assert!(format!("{refused:#}").contains("all 16 node ids are leased"), "{refused:#}");
    let taken = held[3].node();
    let pinned = lease(&db, Some(taken)).await.expect_err("NODE_ID names a held id");
    assert!(format!("{pinned:#}").contains(&format!("node id {taken} (NODE_ID)")), "{pinned:#}");

    held[3].release().await;
    assert_eq!(lease(&db, None).await.expect("the released id").node(), taken);
    assert_eq!(second.ids.next() >> 8 & 0xf, u64::from(second.node_lease.node()), "ids carry the leased node");
}

#[tokio::test]
async fn a_process_whose_lease_lapsed_and_was_taken_moves_to_a_free_id() {
    let app = spawn_app().await;
    let db = db::connect_and_migrate(&app.config).await.expect("the database");
    let short = NodeLease::acquire(db.clone(), None, Duration::from_secs(1)).await.expect("a lease");
    let ids = IdGenerator::new(short.node());
    let lost = short.node();
    assert!(short.renew(&ids).await.expect("a renewal"), "a live lease renews");

    // Not renewed for longer than its lifetime: another process may take it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let thief = lease(&db, Some(lost)).await.expect("the lapsed id is free again");
    assert_eq!(thief.node(), lost);

    assert!(!short.renew(&ids).await.expect("a switch"), "the renewal finds the lease gone");
    assert_ne!(short.node(), lost, "it moved to another id");
    assert_eq!(ids.next() >> 8 & 0xf, u64::from(short.node()), "and its generator with it");
}
