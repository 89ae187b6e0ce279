-- One notification per recipient, target, verb and actor: following, unfollowing and following again (or
-- liking, cancelling and liking again) refreshes the notification instead of adding one per cycle. The
-- key also serves the deletes that take a target's notifications with it (recipient first: the table is
-- sharded by recipient).

-- The key, first without its uniqueness, so the clean-up below finds duplicates through it.
ALTER TABLE notifications
    ADD KEY notifications_once (recipient_id, target_type, target_id, verb, actor_id);

-- Keep the newest of any duplicates made before this rule.
DELETE older FROM notifications older
JOIN notifications newer
  ON newer.recipient_id = older.recipient_id
 AND newer.target_type = older.target_type
 AND newer.target_id = older.target_id
 AND newer.verb = older.verb
 AND newer.actor_id = older.actor_id
 AND newer.id > older.id;

ALTER TABLE notifications
    DROP KEY notifications_once,
    ADD UNIQUE KEY notifications_once (recipient_id, target_type, target_id, verb, actor_id);
