/* t/unit/client.c: the UCSPI client variables, loopback, session ids. */
#include <stdlib.h>

#include "client.h"
#include "tap.h"

int
main(void)
{
	char id[32];

	unsetenv("PROTO");
	unsetenv("TCPREMOTEIP");
	unsetenv("TCP6REMOTEIP");
	tap_is_str(client_var("REMOTEIP", "unknown"), "unknown", "nothing set: the default");
	setenv("TCPREMOTEIP", "192.0.2.7", 1);
	tap_is_str(client_var("REMOTEIP", "unknown"), "192.0.2.7", "no PROTO: TCPREMOTEIP");
	setenv("PROTO", "TCP6", 1);
	setenv("TCP6REMOTEIP", "2001:db8::7", 1);
	tap_is_str(client_var("REMOTEIP", "unknown"), "2001:db8::7", "PROTO=TCP6: TCP6REMOTEIP");
	setenv("TCP6REMOTEIP", "", 1);
	tap_is_str(client_var("REMOTEIP", "unknown"), "192.0.2.7", "empty ${PROTO}REMOTEIP: TCPREMOTEIP");
	setenv("PROTO", "AVERYLONGPROTOCOLNAMEXX", 1);
	tap_is_str(client_var("REMOTEIP", "unknown"), "unknown", "absurd PROTO: the default");
	tap_ok(client_var("REMOTEHOST", 0) == 0, "unset REMOTEHOST: NULL");
	tap_ok(client_loopback("127.0.0.1") && client_loopback("127.9.9.9"), "127/8 is loopback");
	tap_ok(client_loopback("::1") && client_loopback("::ffff:127.0.0.1"), "::1 and mapped 127/8 are loopback");
	tap_ok(!client_loopback("128.0.0.1") && !client_loopback("::2") && !client_loopback("10.0.0.127"),
	    "others are not");
	client_sessionid(id, sizeof id);
	tap_ok(strlen(id) == 17 && strspn(id, "0123456789abcdef") == 17, "session id: 17 hex digits");
	return tap_done();
}
