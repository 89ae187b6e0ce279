//! Operations commands behind `origin <command>`: demo and benchmark data, timeline rebuilds.

pub mod feeds;
pub mod seed;
