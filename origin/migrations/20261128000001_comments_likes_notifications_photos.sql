-- Comments, likes, notifications and tweet photos.
--
-- Ids come from the application (src/ids.rs) and created_at is derived from them, as for tweets. Counters
-- (tweets.likes_count / comments_count, comments.likes_count) are changed in the same transaction as the
-- rows they count, with a row lock on the counted object taken first, so concurrent likes never lose an
-- update and a read never counts rows.

CREATE TABLE comments (
    id          BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    tweet_id    BIGINT UNSIGNED NOT NULL,
    user_id     BIGINT UNSIGNED NOT NULL,
    content     VARCHAR(140) NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    likes_count INT UNSIGNED NOT NULL DEFAULT 0,
    -- A tweet's comments, oldest first.
    KEY comments_tweet (tweet_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One like per user and object; the unique key makes liking twice a no-op (INSERT IGNORE).
CREATE TABLE likes (
    id           BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    user_id      BIGINT UNSIGNED NOT NULL,
    -- 'tweet' or 'comment'.
    content_type VARCHAR(16) NOT NULL,
    object_id    BIGINT UNSIGNED NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE KEY likes_user_object (user_id, content_type, object_id),
    -- An object's likes, newest first.
    KEY likes_object (content_type, object_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- A user's notifications, newest first. The id is chosen when the causing action is committed and
-- travels in its outbox event, so a redelivered event inserts nothing twice (INSERT IGNORE).
CREATE TABLE notifications (
    id           BIGINT UNSIGNED NOT NULL,
    recipient_id BIGINT UNSIGNED NOT NULL,
    actor_id     BIGINT UNSIGNED NOT NULL,
    verb         VARCHAR(64) NOT NULL,
    -- 'tweet', 'comment' or 'user'.
    target_type  VARCHAR(16) NOT NULL,
    target_id    BIGINT UNSIGNED NOT NULL,
    unread       TINYINT(1) NOT NULL DEFAULT 1,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (recipient_id, id),
    UNIQUE KEY notifications_id (id),
    -- Unread counts and the unread filter.
    KEY notifications_unread (recipient_id, unread, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- A tweet's photos in upload order; the object key names the file in the object store.
CREATE TABLE tweet_photos (
    tweet_id   BIGINT UNSIGNED NOT NULL,
    position   TINYINT UNSIGNED NOT NULL,
    object_key VARCHAR(255) NOT NULL,
    PRIMARY KEY (tweet_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
