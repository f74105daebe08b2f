-- user-list.sql: mailctl user list. Columns: the address, the quota, the Maildir.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT CONCAT(name, '@', domain), quota, home FROM users ORDER BY domain, name
