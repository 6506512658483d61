# dbtree — plain GNU make.  `make help` lists the targets.
#
# Out of tree: objects and programs go to build/ (or build-san/ with SAN=1,
# the AddressSanitizer + UndefinedBehaviorSanitizer build the tests use).

PKGS      = libpq hiredis json-c libcurl fcgi libcrypto
BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
STATE    ?= $(CURDIR)/var
UNITDIR  ?= /lib/systemd/system
TMPFILESDIR ?= /usr/lib/tmpfiles.d

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wformat=2 -Wvla -Wwrite-strings -Wcast-qual \
	    -fno-strict-aliasing
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Ilib \
	    $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lresolv -lm

ifdef SAN
BUILD    := build-san
CFLAGS   += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif

LIB_SRC   = $(sort $(wildcard lib/*/*.c))
O         = $(BUILD)/obj
LIB_OBJ   = $(LIB_SRC:%.c=$(O)/%.o)
FCGI_OBJ  = $(patsubst %.c,$(O)/%.o,$(wildcard fcgi-bin/*.c))
CTL_OBJ   = $(patsubst %.c,$(O)/%.o,$(wildcard bin/*.c))
TEST_OBJ  = $(patsubst %.c,$(O)/%.o,$(wildcard tests/unit/test_*.c))
BENCH_OBJ = $(patsubst %.c,$(O)/%.o,$(wildcard tests/bench/*.c))
PROBE_OBJ = $(patsubst %.c,$(O)/%.o,$(wildcard tests/stack/*.c))
POOLS     = $(FCGI_OBJ:$(O)/fcgi-bin/%.o=$(BUILD)/fcgi/%)
CTLS      = $(CTL_OBJ:$(O)/bin/%.o=$(BUILD)/bin/%)
UNITS     = $(TEST_OBJ:$(O)/tests/unit/%.o=$(BUILD)/tests/%)
BENCHES   = $(BENCH_OBJ:$(O)/tests/bench/%.o=$(BUILD)/bench/%)
PROBES    = $(PROBE_OBJ:$(O)/tests/stack/%.o=$(BUILD)/test-fcgi/%)

all: $(POOLS) $(CTLS)

$(BUILD)/libdbtree.a: $(LIB_OBJ)
	$(AR) rcs $@ $^
$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/fcgi/%: $(O)/fcgi-bin/%.o $(BUILD)/libdbtree.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/bin/%: $(O)/bin/%.o $(BUILD)/libdbtree.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/tests/%: $(O)/tests/unit/%.o $(BUILD)/libdbtree.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/test-fcgi/%: $(O)/tests/stack/%.o $(BUILD)/libdbtree.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/bench/%: $(O)/tests/bench/%.o $(BUILD)/libdbtree.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

units: $(UNITS) $(PROBES)
benches: $(BENCHES)

# Debian packages the build, the local run and the tests need.  The fuzz
# suite needs clang and, for -fsanitize=fuzzer, libclang-rt-14-dev (Debian
# 12's clang-14 only recommends it).  fonts-nanum: Hangul for the Korean
# UI in the browser tests' screenshots (Chromium has no font of its own).
# prometheus (with promtool) and python3-yaml: the monitoring test loads
# systemd/monitoring/ into a real Prometheus.
DEBS = build-essential pkg-config libpq-dev libhiredis-dev libjson-c-dev \
       libcurl4-openssl-dev libfcgi-dev libssl-dev postgresql postgresql-contrib \
       redis-server nginx-light libnginx-mod-nchan curl python3 python3-aiosmtpd wrk \
       systemd procps iproute2 chromium fonts-nanum clang libclang-rt-14-dev \
       prometheus python3-yaml
deps:
	@missing=$$(for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done; \
		command -v npm >/dev/null || echo nodejs npm); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "missing packages; run as root:"; \
		echo "  apt-get update && apt-get install -y $$missing"; \
		exit 1; fi; \
	echo "installing:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq $$missing >/dev/null

run: deps all
	bin/dbtree-local run $(STATE)

test: deps browser-deps
	$(MAKE) all
	$(MAKE) SAN=1 all units
	tests/run

# From the npm registry: playwright-core (it drives Debian's Chromium and
# downloads no browser of its own), the Kubernetes API stand-in's schema
# validators (kubernetes-models) and the OTLP receiver's protocol
# definitions (@opentelemetry/otlp-transformer).
browser-deps:
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	cd tests/k8s && npm ci --no-audit --no-fund --loglevel=error
	cd tests/otlp && npm ci --no-audit --no-fund --loglevel=error

bench: deps all benches
	tests/bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/dbtree/fcgi \
		$(DESTDIR)$(PREFIX)/share/dbtree/monitoring $(DESTDIR)$(UNITDIR)
	install -m 0755 $(CTLS) bin/dbtree-local $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(POOLS) $(DESTDIR)$(PREFIX)/lib/dbtree/fcgi/
	cp -R sql nginx $(DESTDIR)$(PREFIX)/share/dbtree/
	install -m 0644 systemd/monitoring/dbtree.rules.yml \
		systemd/monitoring/dbtree.rules.test.yml \
		systemd/monitoring/dbtree-dashboard.json \
		$(DESTDIR)$(PREFIX)/share/dbtree/monitoring/
	for f in systemd/*.service systemd/*.socket systemd/*.timer \
		systemd/*.target; do \
		sed 's|@PREFIX@|$(PREFIX)|g' $$f > \
		$(DESTDIR)$(UNITDIR)/$$(basename $$f); done
	sed -i 's|@PREFIX@|$(PREFIX)|g' \
		$(DESTDIR)$(PREFIX)/share/dbtree/nginx/dbtree.conf
	install -D -m 0644 systemd/dbtree.tmpfiles \
		$(DESTDIR)$(TMPFILESDIR)/dbtree.conf

clean:
	rm -rf build build-san

help:
	@echo "make run     start the whole service locally under ./var"
	@echo "make test    every test suite (installs what it needs)"
	@echo "make bench   throughput figures against a control responder"
	@echo "make deps    install missing Debian packages (root)"
	@echo "make install PREFIX=/usr/local DESTDIR="

.PHONY: all units benches deps browser-deps run test bench install clean help
.SECONDARY:
-include $(LIB_OBJ:.o=.d) $(FCGI_OBJ:.o=.d) $(CTL_OBJ:.o=.d) \
	 $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(PROBE_OBJ:.o=.d)
