-- quota-update.sql: After a delivery (or a deletion: negative values), add %b bytes and
-- %m messages to the usage of %u.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
INSERT INTO quota (username, bytes, messages) VALUES (%u, GREATEST(%b, 0), GREATEST(%m, 0))
ON DUPLICATE KEY UPDATE bytes = GREATEST(bytes + %b, 0), messages = GREATEST(messages + %m, 0)
