-- alias-list.sql: mailctl alias list. Columns: the address, the action, the targets.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT address, action, aliases FROM forwarder ORDER BY address, id
