-- domain-list.sql: mailctl domain list (besides host_list). Column: the domain.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT domain FROM users
UNION SELECT SUBSTRING_INDEX(address, '@', -1) FROM forwarder
ORDER BY 1
