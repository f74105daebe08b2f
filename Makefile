# chainmail: one GNU Makefile, no configure step.
#   make            build every program into bin/
#   make check      unit + end-to-end tests, then again under ASan/UBSan
#   make run        start the whole server in the foreground (see README)
#   make bench      side-by-side benchmarks against Postfix/Dovecot
#   make fuzz       build the libFuzzer targets (clang)
# Local overrides go in config.mk.

-include config.mk

CC      ?= cc
SAN     ?= 0
WERROR  ?= 1

WARN   := -std=c99 -Wall -Wextra -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARD := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
OPT    := -O2 -g
ifeq ($(SAN),1)
OPT    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
HARDEN := -fPIE
LDHARD := -pie -fsanitize=address,undefined -Wl,--as-needed
endif
ifneq ($(WERROR),0)
WARN   += -Werror
endif

CPPFLAGS += -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE -Ilib
CFLAGS   += $(WARN) $(HARDEN) $(OPT)
LDFLAGS  += $(LDHARD)
# tinycdb first: libskarnet also exports cdb_init, cdb_find, cdb_free and
# cdb_hash (skalibs' own CDB API, other signatures). The dynamic linker
# binds each name to the first library that defines it, in link order.
# No -lmariadb: lib/sql.c loads libmariadb.so.3 with dlopen() only when
# MYSQL_HOST is set, so that the programs run per message do not load
# it (and libssl, libcrypto, libz) at every start (doc/bench.md).
LDLIBS   := -lcdb -lskarnet -lcrypt

# Programs linked statically (-static-pie) in the plain build. They run
# once per message or per SMTP session, and in this VM a static program
# starts in about 0.5 ms of CPU against 0.8 to 0.9 ms dynamically linked
# (doc/bench.md, "Where chainmail's time goes"). Only programs that never
# call lib/sql belong here: it loads libmariadb with dlopen(), which a
# static glibc program cannot do safely; nor anything that needs NSS
# (getpwnam, getaddrinfo). Linker warnings are errors for these, so a
# program that starts to pull either in fails to build instead of
# misbehaving. The sanitizer build stays dynamic (ASan cannot be static).
STATIC_PROGS ?= smtpd enqueue masquerade door
ifeq ($(SAN),1)
override STATIC_PROGS :=
endif
LDSTATIC = $(patsubst -pie,-static-pie,$(LDFLAGS)) -Wl,--fatal-warnings
# The other programs stay dynamically linked against libc (and so can
# dlopen libmariadb), but take tinycdb, skalibs and libxcrypt from their
# static archives: two or three shared objects fewer to map and relocate
# at every start. rcpt-check: about 0.45 ms of CPU less per run, two
# thirds of what a fully static build saves (doc/bench.md).
LDLIBS_DYN = -Wl,-Bstatic $(LDLIBS) -Wl,-Bdynamic

# Where things go: the plain build in bin/ and build/, the sanitizer
# build entirely under build/san/ so both can coexist.
ifeq ($(SAN),1)
B   := build/san
BIN := build/san/bin
else
B   := build/default
BIN := bin
endif

PROGS    := $(notdir $(patsubst %/,%,$(dir $(wildcard cmd/*/*.c))))
PROGS    := $(sort $(PROGS))
LIBSRC   := $(wildcard lib/*.c)
LIBOBJ   := $(patsubst lib/%.c,$(B)/lib/%.o,$(LIBSRC))
LIBA     := $(B)/libchainmail.a
UNITSRC  := $(wildcard t/unit/*.c)
UNITS    := $(patsubst t/unit/%.c,$(B)/t/unit/%.t,$(UNITSRC))
HDRS     := $(wildcard lib/*.h) $(wildcard cmd/*/*.h)

# per-program extra libraries
LIBS_tlsd    := -lbearssl
LIBS_unit_tls := -lbearssl
LIBS_unit_tlsclient := -lbearssl
LIBS_smtp-send := -lbearssl -lresolv

.PHONY: all check check-plain check-san preflight unit run bench fuzz fuzz-check deps clean tables
all: $(addprefix $(BIN)/,$(PROGS)) tables

$(B)/lib/%.o: lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIBOBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(B)/cmd/%.o: cmd/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Icmd/$(firstword $(subst /, ,$*)) $(CFLAGS) -c -o $@ $<

define prog_rule
$(BIN)/$(1): $(patsubst cmd/%.c,$(B)/cmd/%.o,$(wildcard cmd/$(1)/*.c)) $(LIBA)
	@mkdir -p $$(@D)
	$$(CC) $$(if $$(filter $(1),$$(STATIC_PROGS)),$$(LDSTATIC),$$(LDFLAGS)) -o $$@ $$^ $$(LIBS_$(1)) \
	    $$(if $$(filter $(1),$$(STATIC_PROGS)),$$(LDLIBS),$$(LDLIBS_DYN))
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

$(B)/t/unit/%.t: t/unit/%.c t/unit/tap.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -It/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS_unit_$*) $(LDLIBS)

unit: $(UNITS)

# Compile the operator's tables in etc/ (text -> .cdb, atomically).
tables:
	@$(MAKE) -s -C etc

# The test suite: TAP under t/, driven by prove. Tests find the
# programs through CHAINMAIL_BIN.
PROVE ?= prove
check: preflight
	$(MAKE) check-plain
	$(MAKE) check-san
check-plain: all unit
	CHAINMAIL_BIN=$(CURDIR)/bin CHAINMAIL_ROOT=$(CURDIR) \
	  $(PROVE) -r t/ $(B)/t/
	@$(MAKE) -s fuzz-check
check-san:
	$(MAKE) SAN=1 all unit
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	CHAINMAIL_BIN=$(CURDIR)/build/san/bin CHAINMAIL_ROOT=$(CURDIR) CHAINMAIL_SAN=1 \
	  $(PROVE) -r t/ build/san/t/

# libFuzzer targets: t/fuzz/fuzz-*.c, corpus in t/fuzz/corpus/<name>/.
FUZZSRC := $(wildcard t/fuzz/fuzz-*.c)
FUZZERS := $(patsubst t/fuzz/%.c,build/fuzz/%,$(FUZZSRC))
# lib/ is instrumented into its own archive, so that a fuzzer links only
# the modules it calls (not lib/tls.o and its BearSSL, say).
FUZZFLAGS := -std=c99 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZLIBA  := build/fuzz/libchainmail.a
build/fuzz/lib/%.o: lib/%.c $(HDRS)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
$(FUZZLIBA): $(patsubst lib/%.c,build/fuzz/lib/%.o,$(LIBSRC))
	rm -f $@
	ar rcs $@ $^
build/fuzz/fuzz-%: t/fuzz/fuzz-%.c $(FUZZLIBA) $(HDRS)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZLIBA) $(LDLIBS)
fuzz: $(FUZZERS)
# run every fuzzer over its corpus once (a regression test, not a search)
fuzz-check: $(FUZZERS)
	@for f in $(FUZZERS); do n=$${f##*/fuzz-}; \
	  echo "fuzz: $$n over t/fuzz/corpus/$$n"; \
	  $$f -runs=0 t/fuzz/corpus/$$n >/dev/null 2>&1 || { echo "fuzz: $$n FAILED"; exit 1; }; done

run: all
	sh package/run-local

# SMTP (vs Postfix), TLS (vs Postfix), POP3 (vs Dovecot), AUTH (vs Postfix +
# Dovecot SASL), IMAP (vs Dovecot): see doc/bench.md
bench: all
	sh t/bench/run
	sh t/bench/tls
	python3 t/bench/pop3
	python3 t/bench/auth
	python3 t/bench/imap
	sh t/bench/relay

# Install the Debian packages listed in package/deps that are missing
# (only as root; otherwise print what is missing).
deps:
	@sh package/install-deps

# Before any test: every tool, library and module the suite uses is
# there and works (swaks with TLS, clang with libFuzzer, ...); else the
# list of what is missing, with the Debian package of each.
preflight: deps
	@sh package/check-tools

clean:
	rm -rf bin build
