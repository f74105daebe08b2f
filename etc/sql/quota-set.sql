-- quota-set.sql: After a recount of the Maildir: the usage of %u is %b bytes in %m
-- messages.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
INSERT INTO quota (username, bytes, messages) VALUES (%u, %b, %m)
ON DUPLICATE KEY UPDATE bytes = %b, messages = %m
