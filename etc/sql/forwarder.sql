-- forwarder.sql: The forwarder of an address (local@domain, or @domain for the
-- catch-all). Columns: the action (drop, or anything else: alias), the
-- targets separated by | (or commas, or one per line). Rows are merged.
-- Placeholders (never quoted): %u address, %n local part, %d domain,
-- %p password hash, %h home, %q quota, %t action, %a targets,
-- %b bytes, %m messages; %% is a percent sign. See doc/sql.md.
SELECT action, aliases FROM forwarder WHERE address = %u ORDER BY id
