//! What the end-to-end (`e2e/`) and cluster (`cluster/`) tests share: the edge worker under
//! `wrangler dev` ([`wrangler`]), and where the repository and free ports are.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
};

pub mod wrangler;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A port nothing listens on right now (the listener is dropped before the port is handed out).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}
