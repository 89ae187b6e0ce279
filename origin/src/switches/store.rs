//! SQL of the `feature_switches` table.

use sqlx::MySqlExecutor;

/// One stored switch.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSwitch {
    pub name: String,
    pub percent: u8,
    /// Microseconds since the Unix epoch.
    pub updated_at: i64,
}

/// Every stored switch, by name. The table holds a handful of rows; the whole of it is one cache entry.
#[tracing::instrument(skip(db))]
pub async fn all(db: impl MySqlExecutor<'_>) -> sqlx::Result<Vec<StoredSwitch>> {
    sqlx::query_as("SELECT name, percent, updated_at FROM feature_switches ORDER BY name").fetch_all(db).await
}

/// Creates or changes a switch. The percent is bound twice rather than read back with `VALUES()`, which
/// MySQL 8 deprecates and MariaDB's replacement syntax does not share.
#[tracing::instrument(skip(db))]
pub async fn set(db: impl MySqlExecutor<'_>, name: &str, percent: u8, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO feature_switches (name, percent, updated_at) VALUES (?, ?, ?) \
         ON DUPLICATE KEY UPDATE percent = ?, updated_at = ?",
    )
    .bind(name)
    .bind(percent)
    .bind(now)
    .bind(percent)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}
