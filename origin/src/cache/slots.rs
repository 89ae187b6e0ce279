//! Redis Cluster slots: which slot a key hashes to, and a pipeline regrouped into one pipeline per slot.
//!
//! redis-rs's cluster client sends a pipeline to the node of its first key and fails it (`CrossSlot`)
//! when another key lies in another slot. The origin's pipelines touch many users at once (a delivery
//! writes a thousand timelines), so [`split`] regroups their commands by slot. The caller sends the parts
//! concurrently, over the cluster connection's one socket per node, and puts the replies back in order.

use std::collections::HashMap;

use redis::{Arg, Cmd, Pipeline};

/// Slots in a Redis Cluster.
const SLOTS: u16 = 16_384;

/// The slot of `key`: the CRC16 of its hash tag (the text between the first `{` and the next `}`, when
/// not empty), else of the whole key.
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|b| *b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter().position(|b| *b == b'}').filter(|len| *len > 0).map(|len| &rest[..len])
        })
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(tagged) % SLOTS
}

/// Where one command of a pipeline can go.
#[derive(Debug, PartialEq, Eq)]
enum Placement {
    /// With the other commands on this slot.
    Slot(u16),
    /// On its own: no key (`PING`, `WAIT`), or keys in several slots (`MGET`, `DEL`), which the cluster
    /// client splits itself when the command is sent alone.
    Alone,
}

/// Commands whose arguments are no keys.
const KEYLESS: &[&[u8]] = &[
    b"PING",
    b"WAIT",
    b"SCRIPT",
    b"INFO",
    b"CLUSTER",
    b"DBSIZE",
    b"SCAN",
    b"KEYS",
    b"TIME",
    b"CONFIG",
    b"CLIENT",
    b"FLUSHALL",
    b"FLUSHDB",
    b"ECHO",
];
/// Commands whose arguments are all keys.
const ALL_KEYS: &[&[u8]] = &[b"MGET", b"DEL", b"EXISTS", b"UNLINK", b"TOUCH"];

fn placement(cmd: &Cmd) -> Placement {
    let args: Vec<&[u8]> = cmd
        .args_iter()
        .map(|arg| match arg {
            Arg::Simple(bytes) => bytes,
            Arg::Cursor => b"0".as_slice(),
        })
        .collect();
    let Some(name) = args.first().map(|name| name.to_ascii_uppercase()) else { return Placement::Alone };
    let keys: &[&[u8]] = if KEYLESS.contains(&name.as_slice()) {
        &[]
    } else if ALL_KEYS.contains(&name.as_slice()) {
        &args[1..]
    } else if name == b"EVAL" || name == b"EVALSHA" {
        let count = args.get(2).and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok()).unwrap_or(0);
        args.get(3..3 + count).unwrap_or(&[])
    } else {
        args.get(1..2).unwrap_or(&[])
    };
    let mut slots = keys.iter().map(|key| key_slot(key));
    match slots.next() {
        Some(first) if slots.all(|slot| slot == first) => Placement::Slot(first),
        _ => Placement::Alone,
    }
}

/// One part of a split pipeline, with the positions its replies take in the original's.
pub enum Part {
    Slot { pipeline: Pipeline, positions: Vec<usize> },
    Alone { cmd: Cmd, position: usize },
}

/// `pipeline`'s commands regrouped: one pipeline per slot, keeping their order within it, and the
/// commands that must go alone. A pipeline already on one slot comes back as one part.
pub fn split(pipeline: &Pipeline) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut by_slot: HashMap<u16, usize> = HashMap::new();
    for (position, cmd) in pipeline.cmd_iter().enumerate() {
        match placement(cmd) {
            Placement::Slot(slot) => {
                let index = *by_slot.entry(slot).or_insert_with(|| {
                    parts.push(Part::Slot { pipeline: Pipeline::new(), positions: Vec::new() });
                    parts.len() - 1
                });
                if let Part::Slot { pipeline, positions } = &mut parts[index] {
                    pipeline.add_command(cmd.clone());
                    positions.push(position);
                }
            }
            Placement::Alone => parts.push(Part::Alone { cmd: cmd.clone(), position }),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_the_cluster_specification() {
        // The examples of the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(key_slot(b"123456789"), 12_739);
        assert_eq!(key_slot(b"foo"), 12_182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"), "an empty tag hashes the whole key");
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    #[test]
    fn a_pipeline_is_regrouped_by_slot_and_keeps_each_slots_order() {
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD").arg("rk:tl:h:{1}").arg(5).arg(5);
        pipe.cmd("ZADD").arg("rk:tl:h:{2}").arg(5).arg(5);
        pipe.cmd("EXPIRE").arg("rk:tl:h:{1}").arg(60);
        pipe.cmd("EVALSHA").arg("abc").arg(2).arg("rk:tl:h:{1}").arg("rk:tl:x:{1}").arg(800);
        pipe.cmd("MGET").arg("rk:t:{1}").arg("rk:t:{2}");
        pipe.cmd("PING");
        let parts = split(&pipe);
        let summary: Vec<Vec<usize>> = parts
            .iter()
            .map(|part| match part {
                Part::Slot { positions, .. } => positions.clone(),
                Part::Alone { position, .. } => vec![*position],
            })
            .collect();
        assert_eq!(summary, vec![vec![0, 2, 3], vec![1], vec![4], vec![5]]);
        assert!(matches!(&parts[2], Part::Alone { .. }), "a multi-slot MGET goes alone");
    }

    #[test]
    fn a_script_over_keys_of_two_slots_goes_alone() {
        let mut eval = redis::cmd("EVALSHA");
        eval.arg("abc").arg(2).arg("rk:tl:h:{1}").arg("rk:tl:h:{2}");
        assert_eq!(placement(&eval), Placement::Alone);
        let mut keyless = redis::cmd("EVAL");
        keyless.arg("return 1").arg(0);
        assert_eq!(placement(&keyless), Placement::Alone);
    }
}
