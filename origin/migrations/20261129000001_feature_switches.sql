-- Feature switches: a named behaviour and the share of users (0-100 %) it is rolled out to.
--
-- Which users are inside a rollout is not stored: it is computed from a hash of the switch name and the
-- user id (src/switches/service.rs), so it is the same on every process and stays the same while the
-- percent is unchanged; raising the percent only adds users. A switch without a row here has the default
-- the code declares for it (off for names the code does not know). Processes cache this table for a few
-- seconds; `origin switch set` reaches all of them within that bound.

CREATE TABLE feature_switches (
    name       VARCHAR(64) NOT NULL PRIMARY KEY,
    -- 0 (nobody) to 100 (everybody).
    percent    TINYINT UNSIGNED NOT NULL,
    -- Microseconds since the Unix epoch, like every other time column.
    updated_at BIGINT NOT NULL,
    CONSTRAINT feature_switches_percent CHECK (percent <= 100)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
