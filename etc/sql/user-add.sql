-- user-add.sql: mailctl user add. %h is the Maildir (--maildir, else
-- $MAILROOT/<domain>/<local>), %q the quota in megabytes.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
INSERT INTO users (name, domain, password, home, quota, uid, gid, gecos)
VALUES (%n, %d, %p, %h, %q, 8, 8, '')
