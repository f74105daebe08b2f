-- user-passwd.sql: mailctl user passwd.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
UPDATE users SET password = %p WHERE name = %n AND domain = %d
