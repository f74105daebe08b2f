-- sql/schema.sql: the MariaDB/MySQL tables chainmail reads, as the
-- Haraka + Dovecot + MySQL installations have them. An existing database
-- with these tables works unchanged: chainmail needs no other table or
-- column. The two extra indexes only speed up the lookups; the queries
-- (etc/sql/*.sql) work without them.
--
--   mariadb mail < sql/schema.sql

-- Mailboxes. name is the local part, domain the domain: the address is
-- name@domain. password is a crypt(3) hash ($1$, $5$, $6$, $2y$, $y$),
-- with or without a {SCHEME} prefix; home is the Maildir (empty: the
-- default $MAILROOT/<domain>/<name>/); quota is in megabytes (0 or empty:
-- none).
CREATE TABLE IF NOT EXISTS users (
	id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name varchar(32) NOT NULL,
	password varchar(255) NOT NULL,
	domain varchar(255) NOT NULL,
	uid int NOT NULL DEFAULT 8,
	gid int NOT NULL DEFAULT 8,
	gecos varchar(255) NOT NULL DEFAULT '',
	home varchar(255) NOT NULL DEFAULT '',
	quota varchar(255) NOT NULL DEFAULT '0',
	KEY users_address (domain, name)
);

-- Forwarders. address is local@domain, or @domain for the catch-all;
-- action is 'alias' (deliver to the targets in aliases, separated by
-- '|', as 'foo@bar | foo@qux') or 'drop' (accept and discard).
CREATE TABLE IF NOT EXISTS forwarder (
	id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
	address varchar(128) NOT NULL,
	action varchar(8) NOT NULL DEFAULT 'alias',
	aliases text,
	KEY forwarder_address (address)
);

-- Mailbox usage, per full address, kept up to date by the mail store
-- (maildir-deliver adds each delivery; imapd and pop3d subtract).
CREATE TABLE IF NOT EXISTS quota (
	username varchar(255) NOT NULL PRIMARY KEY,
	bytes bigint NOT NULL DEFAULT 0,
	messages int NOT NULL DEFAULT 0
);

-- Dovecot's expire plugin (kept for compatibility; chainmail does not
-- read it).
CREATE TABLE IF NOT EXISTS expires (
	username varchar(100) NOT NULL,
	mailbox varchar(255) NOT NULL,
	expire_stamp int NOT NULL,
	PRIMARY KEY (username, mailbox)
);
