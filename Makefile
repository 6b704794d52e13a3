# kmsemu -- a local emulator of Huawei Cloud KMS and Tencent Cloud KMS.
#
#   make run    install what is missing, build, serve scenarios/default.lua
#   make test   install what is missing, build, run every spec (Lua, and the
#               official SDKs of Python, Go, Java and Node)
#   make matrix rewrite docs/sdk.md's SDK matrix from the last make test
#   make asan / bench / soak / memcheck   the longer checks (see below)
#   make fuzz   build the libFuzzer targets, run each FUZZ_SECONDS (600)
#   make deps   apt-get install the Debian packages that are not there yet
#   make install / uninstall   PREFIX (/usr/local), DESTDIR as usual
#   make deb    build/kmsemu_VERSION_ARCH.deb
#   make clean

# The one place the version is set: --version, the man page, the package.
VERSION := 0.1.0
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
PKGS    := lua5.4 libcrypto libssl zlib
# libssl's headers only: it is loaded for https (src/tls_compat.c).
LINK_PKGS := $(filter-out libssl,$(PKGS))
# -ffile-prefix-map keeps the checkout's path out of the debug information.
CPPFLAGS += -std=c11 -D_GNU_SOURCE -Isrc -ffile-prefix-map=$(CURDIR)=. \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := -lcivetweb -l:liblua5.4-cjson.a $(shell pkg-config --libs $(LINK_PKGS) 2>/dev/null) -lpthread -lm -ldl

BUILD   := build
BIN     := $(BUILD)/kmsemu
MODULE  := $(BUILD)/lib/kmsemu/core.so
VM_SRCS := src/vm.c src/vm_alloc.c src/vm_watch.c src/vm_run.c src/vm_conv.c
SRCS    := src/main.c src/http.c $(VM_SRCS) src/crypto.c src/lcore.c src/tls.c \
           src/tls_compat.c src/store.c
OBJS    := $(SRCS:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/lua_modules.o
PIC_OBJS := $(BUILD)/obj/pic/crypto.o $(BUILD)/obj/pic/lcore.o $(BUILD)/obj/pic/store.o

LISTEN   ?= 127.0.0.1:8080
SCENARIO ?= scenarios/default.lua
LOG_FORMAT ?= text

# Debian 12 packages: the C and Lua build and the test runner. Node and npm
# (for the SDK contract tests) are installed only when absent: a machine
# may carry a newer Node that Debian's npm package would conflict with.
DEB_PKGS := build-essential pkg-config liblua5.4-dev lua5.4 libssl-dev \
            lua-cjson-dev lua-cjson libcivetweb-dev lua-busted lua-socket \
            zlib1g-dev openssl lintian man-db strace
# make test alone needs these: the headless browser of spec/ui.
TEST_PKGS := chromium

Q = @
ifeq ($(V),1)
Q =
endif

# The Lua modules, compiled into the binary as bytecode (debug information
# kept, paths relative to the checkout); --lua-dir loads sources instead.
LUA_MODS := $(sort $(shell find lua -name '*.lua'))
# The dashboard's files, compiled in beside them (src/embed.lua).
UI_FILES := $(sort $(shell find lua -name '*.html' -o -name '*.css' -o -name '*.js'))
LUA_GEN  := $(BUILD)/gen/lua_modules.c

all: $(BIN) $(MODULE)

$(LUA_GEN): src/embed.lua $(LUA_MODS) $(UI_FILES) $(shell find lua -type d)
	@mkdir -p $(@D)
	@echo "GEN  $@"
	$(Q)lua5.4 src/embed.lua $(LUA_MODS) $(UI_FILES) >$@.tmp && mv $@.tmp $@

$(BUILD)/obj/lua_modules.o: $(LUA_GEN) src/vm_impl.h src/vm.h src/kmsemu.h | $(BUILD)/obj
	@echo "CC   $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

# civetweb finds these two in the executable (see src/tls_compat.c).
TLS_EXPORTS := -Wl,--export-dynamic-symbol=dlopen \
               -Wl,--export-dynamic-symbol=SSL_get_peer_certificate

$(BIN): $(OBJS)
	@echo "LINK $@"
	$(Q)$(CC) $(LDFLAGS) $(TLS_EXPORTS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/obj/main.o: CPPFLAGS += -DKMS_VERSION='"$(VERSION)"'
$(BUILD)/obj/main.o: Makefile

$(BUILD)/obj/%.o: src/%.c src/*.h | $(BUILD)/obj
	@echo "CC   $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

# The Lua binding again, position-independent, as the module busted loads.
$(BUILD)/obj/pic/%.o: src/%.c src/*.h | $(BUILD)/obj/pic
	@echo "CC   $< (pic)"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -c -o $@ $<

$(MODULE): $(PIC_OBJS) | $(BUILD)/lib/kmsemu
	@echo "LINK $@"
	$(Q)$(CC) -shared $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libcrypto zlib)

$(BUILD)/obj $(BUILD)/obj/pic $(BUILD)/lib/kmsemu $(BUILD)/bench:
	$(Q)mkdir -p $@

deps:
	$(Q)missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done; \
	    command -v npm >/dev/null || echo nodejs npm); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The access log goes to stderr, one line per request (LOG_FORMAT=json).
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BIN) --listen $(LISTEN) --scenario $(SCENARIO) --log-format $(LOG_FORMAT)

test: deps
	$(Q)$(MAKE) --no-print-directory deps DEB_PKGS="$(TEST_PKGS)"
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh spec/run.sh

# docs/sdk.md's operation x language matrix, from the results of the last make test.
matrix:
	$(Q)python3 spec/sdk/readme.py matrix write

# The whole of make test against a kmsemu built with AddressSanitizer and
# UndefinedBehaviorSanitizer: the HTTP specs and the SDK contract tests
# drive that binary. busted's own lua5.4 is not instrumented, so it loads
# the ordinary build of the binding.
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined

asan: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory $(BUILD)-asan/kmsemu BUILD=$(BUILD)-asan \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)"
	$(Q)KMSEMU_BIN=$(BUILD)-asan/kmsemu ASAN_OPTIONS=abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 BUILD=$(BUILD) sh spec/run.sh

# The benchmark: not part of make test. Needs wrk; builds the bare
# civetweb ceiling and the start-up timer from spec/bench/, installs the
# peers it measures kmsemu against (local-kms, moto) under $(BUILD)/bench.
# BENCH_MODE=quiet or busy runs half of it; spec/bench/bench.lua lists the
# other knobs.
BENCH_TOOLS := $(BUILD)/bench/ceiling $(BUILD)/bench/ready

$(BUILD)/bench/%: spec/bench/%.c | $(BUILD)/bench
	@echo "CC   $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< -lcivetweb -lpthread

bench: deps
	$(Q)command -v wrk >/dev/null || $(MAKE) --no-print-directory deps DEB_PKGS=wrk
	$(Q)$(MAKE) --no-print-directory all $(BENCH_TOOLS)
	$(Q)BUILD=$(BUILD) bash spec/bench/peers.sh
	$(Q)BUILD=$(BUILD) LUA_PATH='./lua/?.lua;./lua/?/init.lua;./spec/?.lua;;' \
	    LUA_CPATH='$(BUILD)/lib/?.so;;' lua5.4 spec/bench/bench.lua

# Long runs, not part of make test (spec/soak/soak.lua says what passes).
# soak: SOAK_REQUESTS (1000000) mixed signed requests with faults on, RSS
# and descriptors sampled; memcheck: a few thousand of every kind under
# valgrind, then SIGTERM, no error and no leak.
SOAK_ENV = BUILD=$(BUILD) LUA_PATH='./lua/?.lua;./lua/?/init.lua;./spec/?.lua;;' \
           LUA_CPATH='$(BUILD)/lib/?.so;;'

soak: deps
	$(Q)command -v wrk >/dev/null || $(MAKE) --no-print-directory deps DEB_PKGS=wrk
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(SOAK_ENV) lua5.4 spec/soak/soak.lua soak

memcheck: deps
	$(Q)command -v wrk >/dev/null || $(MAKE) --no-print-directory deps DEB_PKGS=wrk
	$(Q)command -v valgrind >/dev/null || $(MAKE) --no-print-directory deps DEB_PKGS=valgrind
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(SOAK_ENV) lua5.4 spec/soak/soak.lua memcheck

# libFuzzer targets (spec/fuzz/): the request path without sockets, the
# signature parsers, the ciphertext blob parsers and the scenario loader,
# each built with clang, libFuzzer, ASan and UBSan and run FUZZ_SECONDS
# from the seeds in spec/fuzz/corpus/<target>/ (and scenarios/ for the
# scenario loader). What the fuzzer finds new
# goes to $(BUILD)-fuzz/corpus/, a crash, leak or timeout to
# $(BUILD)-fuzz/<target>-crash-*, and stops the run.
FUZZ_TARGETS := request sigparse blob scenario
FUZZ_SECONDS ?= 600
FUZZ_CC      ?= clang
FUZZ_DIR     := $(BUILD)-fuzz
FUZZ_FLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_CORE    := $(FUZZ_DIR)/obj/crypto.o $(FUZZ_DIR)/obj/lcore.o $(FUZZ_DIR)/obj/store.o
# The request target compiles vm_watch.c into itself (see fuzz_request.c).
FUZZ_VM      := $(FUZZ_DIR)/obj/vm.o $(FUZZ_DIR)/obj/vm_alloc.o $(FUZZ_DIR)/obj/vm_run.o \
                $(FUZZ_DIR)/obj/vm_conv.o $(FUZZ_DIR)/obj/lua_modules.o
# The fuzz targets load spec/ helpers from the checkout they were built in.
FUZZ_CPPFLAGS := $(CPPFLAGS) -DFUZZ_ROOT='"$(CURDIR)"'
FUZZ_OPTS    := -timeout=30 -rss_limit_mb=2048 -print_final_stats=1

$(FUZZ_DIR)/obj/%.o: src/%.c src/*.h
	@mkdir -p $(@D)
	@echo "CC   $< (fuzz)"
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(WARN) -c -o $@ $<

$(FUZZ_DIR)/obj/lua_modules.o: $(LUA_GEN) src/vm_impl.h
	@mkdir -p $(@D)
	@echo "CC   $< (fuzz)"
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) -c -o $@ $<

$(FUZZ_DIR)/fuzz-request: spec/fuzz/fuzz_request.c spec/fuzz/fuzz.h src/vm_watch.c \
                          $(FUZZ_VM) $(FUZZ_CORE)
	@echo "LINK $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $(WARN) \
	    -o $@ $< $(FUZZ_VM) $(FUZZ_CORE) $(LDLIBS)

$(FUZZ_DIR)/fuzz-%: spec/fuzz/fuzz_lua.c spec/fuzz/fuzz.h spec/fuzz/%.lua $(FUZZ_CORE)
	@echo "LINK $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) -DFUZZ_DRIVER='"$*"' $(FUZZ_FLAGS) \
	    -fsanitize=fuzzer $(WARN) -o $@ $< $(FUZZ_CORE) $(LDLIBS)

fuzz: deps
	$(Q)command -v $(FUZZ_CC) >/dev/null || \
	    $(MAKE) --no-print-directory deps DEB_PKGS="clang libclang-rt-dev"
	$(Q)$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz-%)
	$(Q)for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t && \
	    echo "fuzz $$t for $(FUZZ_SECONDS) s" && \
	    $(FUZZ_DIR)/fuzz-$$t $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=$(FUZZ_DIR)/$$t- $(FUZZ_DIR)/corpus/$$t \
	        spec/fuzz/corpus/$$t $$([ $$t = scenario ] && echo scenarios) || exit 1; \
	done

# The binary carries its Lua modules and reads nothing else of the
# checkout; with it go the example scenarios and the man page.
PREFIX    ?= /usr/local
SCENARIOS := $(sort $(shell find scenarios -name '*.lua'))
SHARE_DIR  = $(DESTDIR)$(PREFIX)/share/kmsemu
MAN_DIR    = $(DESTDIR)$(PREFIX)/share/man/man1

install: $(BIN)
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin $(MAN_DIR)
	$(Q)install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/kmsemu
	$(Q)for f in $(SCENARIOS); do install -D -m 0644 $$f $(SHARE_DIR)/$$f || exit 1; done
	$(Q)sed 's/@VERSION@/$(VERSION)/' docs/kmsemu.1 >$(MAN_DIR)/kmsemu.1
	$(Q)chmod 0644 $(MAN_DIR)/kmsemu.1

uninstall:
	$(Q)rm -f $(DESTDIR)$(PREFIX)/bin/kmsemu $(MAN_DIR)/kmsemu.1
	$(Q)rm -rf $(SHARE_DIR)

# A binary package from the files make install writes, with the control
# data of docs/debian/: Depends as dpkg-shlibdeps finds it.
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB      := $(BUILD)/kmsemu_$(VERSION)_$(DEB_ARCH).deb
DEB_TOP  := $(BUILD)/deb
DEB_ROOT := $(DEB_TOP)/debian/kmsemu
DEB_DOC  := $(DEB_ROOT)/usr/share/doc/kmsemu
# The changelog's date: the last commit's, so that a rebuild is the same.
DEB_DATE  = $(shell git log -1 --format=%cD 2>/dev/null || date -R)

deb: $(DEB)

$(DEB): $(BIN) $(SCENARIOS) docs/kmsemu.1 docs/debian/* Makefile
	@echo "DEB  $@"
	$(Q)rm -rf $(DEB_TOP)
	$(Q)$(MAKE) --no-print-directory install PREFIX=/usr DESTDIR=$(CURDIR)/$(DEB_ROOT)
	$(Q)strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	    $(DEB_ROOT)/usr/bin/kmsemu
	$(Q)gzip -9n $(DEB_ROOT)/usr/share/man/man1/kmsemu.1
	$(Q)install -D -m 0644 docs/debian/copyright $(DEB_DOC)/copyright
	$(Q)sed -e 's/@VERSION@/$(VERSION)/' -e 's/@DATE@/$(DEB_DATE)/' \
	    docs/debian/changelog.in | gzip -9n >$(DEB_DOC)/changelog.gz
	$(Q)chmod 0644 $(DEB_DOC)/changelog.gz
	$(Q)printf 'Source: kmsemu\n\nPackage: kmsemu\nArchitecture: any\n' \
	    >$(DEB_TOP)/debian/control
	$(Q)install -d -m 0755 $(DEB_ROOT)/DEBIAN
	$(Q)shlibs=$$(cd $(DEB_TOP) && dpkg-shlibdeps -O debian/kmsemu/usr/bin/kmsemu) && \
	deps=$$(echo "$$shlibs" | sed -n 's/^shlibs:Depends=//p') && [ -n "$$deps" ] && \
	size=$$(du -sk --apparent-size $(DEB_ROOT)/usr | cut -f1) && \
	sed -e 's/@VERSION@/$(VERSION)/' -e 's/@ARCH@/$(DEB_ARCH)/' \
	    -e "s/@DEPENDS@/$$deps/" -e "s/@SIZE@/$$size/" \
	    docs/debian/control.in >$(DEB_ROOT)/DEBIAN/control
	$(Q)cd $(DEB_ROOT) && find usr -type f -print0 | sort -z | xargs -0 md5sum >DEBIAN/md5sums
	$(Q)dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $@ >/dev/null

clean:
	rm -rf $(BUILD) $(BUILD)-fuzz

.PHONY: all deps run test matrix asan bench soak memcheck fuzz install uninstall deb clean
