-- user.sql: The account of an address, for authcheck (and mailctl). Columns, in
-- this order: the password hash, the Maildir (empty: $MAILROOT/<domain>/<local>/),
-- the quota in megabytes (empty or 0: none). Only the first row counts. The
-- lookups of the other programs use mailbox.sql, which does not read the hash.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT password, home, quota FROM users
WHERE name = %n AND domain = %d ORDER BY id LIMIT 1
