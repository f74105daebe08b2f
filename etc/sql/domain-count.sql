-- domain-count.sql: mailctl domain del refuses while this says the domain has users
-- (first column) or forwarders (second column).
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT (SELECT COUNT(*) FROM users WHERE domain = %d),
  (SELECT COUNT(*) FROM forwarder WHERE SUBSTRING_INDEX(address, '@', -1) = %d)
