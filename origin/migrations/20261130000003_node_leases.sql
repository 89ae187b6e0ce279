-- The 16 node ids of the id generator (src/ids.rs), leased to running processes so that no two of them
-- generate ids with the same node bits (src/node_lease.rs).
--
-- A process takes the lowest free id at start (or the one NODE_ID names) and renews its lease every few
-- seconds; a lease not renewed for its lifetime (a crashed or partitioned process) is free again. Times
-- are the database server's clock in microseconds, so processes on hosts with skewed clocks agree.

CREATE TABLE node_leases (
    node_id    TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    -- `host:pid:random`, so an operator can see who holds what; empty when never taken.
    holder     VARCHAR(128) NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT node_leases_node_id CHECK (node_id < 16)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO node_leases (node_id, holder, expires_at) VALUES
    (0, '', 0), (1, '', 0), (2, '', 0), (3, '', 0), (4, '', 0), (5, '', 0), (6, '', 0), (7, '', 0),
    (8, '', 0), (9, '', 0), (10, '', 0), (11, '', 0), (12, '', 0), (13, '', 0), (14, '', 0), (15, '', 0);
