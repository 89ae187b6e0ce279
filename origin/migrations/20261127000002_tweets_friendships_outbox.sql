-- Tweets, follows and the transactional outbox.
--
-- Every row's created_at is derived from its application-generated id (the id's millisecond part, see
-- src/ids.rs), so ordering by id is ordering by time and a timestamp filter is an id range. Hot paths are
-- user-scoped: a shard keyed by user_id answers them alone (see docs/scaling.md).

CREATE TABLE tweets (
    id             BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    user_id        BIGINT UNSIGNED NOT NULL,
    content        VARCHAR(140) NOT NULL,
    created_at     BIGINT NOT NULL,
    -- Stored counters, updated atomically with the like/comment rows (no COUNT(*) per read).
    likes_count    INT UNSIGNED NOT NULL DEFAULT 0,
    comments_count INT UNSIGNED NOT NULL DEFAULT 0,
    -- A user's tweets, newest first: the user timeline and its rebuild.
    KEY tweets_user (user_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One row per follow. Sharded by from_user_id (followings and feed rebuilds stay on one shard); the
-- followers lookup uses the (to_user_id, id) index, which becomes a lookup table when sharded.
CREATE TABLE friendships (
    id           BIGINT UNSIGNED NOT NULL,
    from_user_id BIGINT UNSIGNED NOT NULL,
    to_user_id   BIGINT UNSIGNED NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (from_user_id, to_user_id),
    UNIQUE KEY friendships_id (id),
    -- Followings of a user, newest follow first.
    KEY friendships_from (from_user_id, id),
    -- Followers of a user, newest follow first; also the fanout's follower scan.
    KEY friendships_to (to_user_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Per-user counters that drive the hybrid fanout (authors above a follower threshold are pulled, not
-- pushed). Kept apart from users so the hot counter rows do not contend with account reads.
CREATE TABLE user_stats (
    user_id          BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    followers_count  INT UNSIGNED NOT NULL DEFAULT 0,
    followings_count INT UNSIGNED NOT NULL DEFAULT 0,
    tweets_count     INT UNSIGNED NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO user_stats (user_id) SELECT id FROM users;

-- Events written in the same transaction as the change they describe; the relay publishes them to
-- RabbitMQ with publisher confirms and deletes them. A row here is an event not yet handed to the broker.
CREATE TABLE outbox (
    id         BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    topic      VARCHAR(64) NOT NULL,
    payload    MEDIUMTEXT NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
