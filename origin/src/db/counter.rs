//! Stored counters (`tweets_count`, `likes_count`, …) kept next to the rows they count, changed in the
//! transaction that adds or removes what they count.

use sqlx::{MySql, Transaction};

/// One counter column: `column` of the `table` row whose `key` column matches.
#[derive(Debug, Clone, Copy)]
pub struct Counter {
    pub table: &'static str,
    pub column: &'static str,
    pub key: &'static str,
}

impl Counter {
    pub const fn new(table: &'static str, column: &'static str, key: &'static str) -> Self {
        Self { table, column, key }
    }

    /// Adds `delta` (negative to lower it) to the counter of the row keyed `id`. Never below 0:
    /// `GREATEST` keeps an unsigned counter from wrapping should it ever have drifted.
    pub async fn add(self, tx: &mut Transaction<'_, MySql>, id: u64, delta: i32) -> sqlx::Result<()> {
        let Self { table, column, key } = self;
        let sql = format!("UPDATE {table} SET {column} = GREATEST(CAST({column} AS SIGNED) + ?, 0) WHERE {key} = ?");
        sqlx::query(&sql).bind(delta).bind(id).execute(&mut **tx).await.map(drop)
    }
}
