-- quota-get.sql: The usage of %u for quota-check and mailctl user quota. Columns:
-- bytes, messages. No row: nothing used.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT bytes, messages FROM quota WHERE username = %u
