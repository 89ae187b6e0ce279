//! Operations commands behind `origin <command>`: demo and benchmark data, timeline rebuilds, feature
//! switches, the dead-letter queue.

pub mod dead_letters;
pub mod feeds;
pub mod seed;
pub mod switches;
