-- domain.sql: Is %d a local domain? Any row means yes (besides host_list.cdb).
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT 1 FROM users WHERE domain = %d
UNION ALL SELECT 1 FROM forwarder WHERE SUBSTRING_INDEX(address, '@', -1) = %d
LIMIT 1
