-- alias-add.sql: mailctl alias add. %t is alias or drop, %a the targets as a | b.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
INSERT INTO forwarder (address, action, aliases) VALUES (%u, %t, %a)
