-- mailbox.sql: The mailbox of an address, for rcpt-check, quota-check, qmanager and
-- maildir-deliver (MYSQL_LOOKUP_USER may read every column but the password).
-- Columns, in this order: anything (not read; user.sql has the hash there), the
-- Maildir (empty: $MAILROOT/<domain>/<local>/), the quota in megabytes (empty or
-- 0: none). Only the first row counts. Never name the password column here.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT '', home, quota FROM users
WHERE name = %n AND domain = %d ORDER BY id LIMIT 1
