//! Operations commands behind `origin <command>`: demo and benchmark data, timeline rebuilds, feature
//! switches.

pub mod feeds;
pub mod seed;
pub mod switches;
