# kopro — plain Makefile. Every dependency comes through pkg-config, except
# libharu, which Debian ships without a .pc file.
#
#   make            build everything into $(BUILD)/
#   make check      unit tests (normal + ASan/UBSan), integration tests, CLI valgrind
#   make demo       the whole pipeline on a private PostgreSQL cluster under ./var/
#   make demo-stop  stop that cluster
#   make bench      benchmarks against peer tools (see bench/README.md)
#
# Several people may build in one tree at once: give each a BUILD directory,
# e.g. `make BUILD=build-alice check`.

BUILD    ?= build
ASAN_BUILD = $(BUILD)-asan
TSAN_BUILD = $(BUILD)-tsan
CC       ?= cc
PKGS      = libpq jansson gpgme libcurl libarchive cairo freetype2 libmicrohttpd libsystemd libzstd zlib libdeflate libcrypto
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
NPROC    := $(shell nproc 2>/dev/null || echo 2)

WARN      = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wwrite-strings -Werror
BASEFLAGS = -std=c11 -D_GNU_SOURCE -DKOPRO_VERSION='"$(VERSION)"' $(WARN) -Ilib/include -Ijobs
OPT      ?= -O2 -g
SANFLAGS  = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# ThreadSanitizer, for the threaded server: test_api runs against it in make check.
TSANFLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhpdf -lm -lpthread
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC  = $(sort $(wildcard lib/*.c))
JOB_SRC  = $(sort $(wildcard jobs/*.c))
MIGRATIONS = $(sort $(wildcard lib/migrations/*.sql))
CMDS     = $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard cmd/*/*.c)))))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC = $(sort $(wildcard tests/fixtures/*.c))

# Quiet by default; `make V=1` shows the full command lines.
ifeq ($(V),1)
Q =
say = @true
else
Q = @
say = @printf '  %-6s %s\n'
endif

# $(call objs,BUILDDIR,SOURCES)
objs = $(patsubst %.c,$(1)/obj/%.o,$(2))

.PHONY: FORCE all deps build asan tsan check unit unit-asan integration valgrind demo demo-stop \
        bench fonts clean distclean
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory -j$(NPROC) build

deps:
	@sh mk/deps.sh

# ---------------------------------------------------------------- build rules
# One template, instantiated for the normal and the sanitizer build.
define BUILD_TREE
$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(say) CC $$@
	$$(Q)$$(CC) $$(BASEFLAGS) $(2) $$(PKG_CFLAGS) $$(CFLAGS) -MMD -MP -c -o $$@ $$<

# Generated sources: the embedded SQL migrations and the job-kind table.
# The .list files change when a file is added or removed, whatever its mtime
# (a checked-out or copied file can be older than the generated source).
$(1)/gen/migrations.list: FORCE
	@mkdir -p $$(dir $$@)
	@echo '$(MIGRATIONS)' | cmp -s - $$@ || echo '$(MIGRATIONS)' > $$@

$(1)/gen/jobs.list: FORCE
	@mkdir -p $$(dir $$@)
	@echo '$(JOB_SRC)' | cmp -s - $$@ || echo '$(JOB_SRC)' > $$@

$(1)/gen/migrations.c: $(MIGRATIONS) mk/embed.sh $(1)/gen/migrations.list
	@mkdir -p $$(dir $$@)
	$$(say) GEN $$@
	$$(Q)sh mk/embed.sh kopro_migrations $(MIGRATIONS) > $$@.tmp && mv $$@.tmp $$@

$(1)/gen/jobs_registry.c: $(JOB_SRC) mk/jobs-registry.sh $(1)/gen/jobs.list
	@mkdir -p $$(dir $$@)
	$$(say) GEN $$@
	$$(Q)sh mk/jobs-registry.sh $(JOB_SRC) > $$@.tmp && mv $$@.tmp $$@

$(1)/obj/gen/%.o: $(1)/gen/%.c
	@mkdir -p $$(dir $$@)
	$$(say) CC $$@
	$$(Q)$$(CC) $$(BASEFLAGS) $(2) $$(PKG_CFLAGS) $$(CFLAGS) -c -o $$@ $$<

$(1)/libkopro.a: $(call objs,$(1),$(LIB_SRC)) $(1)/obj/gen/migrations.o
	@rm -f $$@
	$$(say) AR $$@
	$$(Q)ar rcs $$@ $$^

$(1)/libkopro-jobs.a: $(call objs,$(1),$(JOB_SRC)) $(1)/obj/gen/jobs_registry.o
	@rm -f $$@
	$$(say) AR $$@
	$$(Q)ar rcs $$@ $$^

$(1)/tools/%: tests/fixtures/%.c $(1)/libkopro.a
	@mkdir -p $$(dir $$@)
	$$(say) LD $$@
	$$(Q)$$(CC) $$(BASEFLAGS) $(2) $$(PKG_CFLAGS) $$(CFLAGS) -o $$@ $$< $(1)/libkopro.a $$(PKG_LIBS) $$(LDFLAGS)

$(1)/tests/%: tests/unit/%.c $(1)/libkopro-jobs.a $(1)/libkopro.a
	@mkdir -p $$(dir $$@)
	$$(say) LD $$@
	$$(Q)$$(CC) $$(BASEFLAGS) $(2) $$(PKG_CFLAGS) $$(CFLAGS) -o $$@ $$< $(1)/libkopro-jobs.a $(1)/libkopro.a $$(CMOCKA_LIBS) $$(PKG_LIBS) $$(LDFLAGS)
endef

# $(call CMD_RULE,BUILDDIR,COMMAND,FLAGS): one binary from cmd/COMMAND/*.c
define CMD_RULE
$(1)/bin/$(2): $(call objs,$(1),$(wildcard cmd/$(2)/*.c)) $(1)/libkopro-jobs.a $(1)/libkopro.a
	@mkdir -p $$(dir $$@)
	$$(say) LD $$@
	$$(Q)$$(CC) $(3) -o $$@ $$(filter %.o,$$^) $(1)/libkopro-jobs.a $(1)/libkopro.a $$(PKG_LIBS) $$(LDFLAGS)
endef

$(eval $(call BUILD_TREE,$(BUILD),$(OPT)))
$(eval $(call BUILD_TREE,$(ASAN_BUILD),$(SANFLAGS)))
$(eval $(call BUILD_TREE,$(TSAN_BUILD),$(TSANFLAGS)))
$(foreach c,$(CMDS),$(eval $(call CMD_RULE,$(BUILD),$(c),$(OPT))))
$(foreach c,$(CMDS),$(eval $(call CMD_RULE,$(ASAN_BUILD),$(c),$(SANFLAGS))))
$(foreach c,$(CMDS),$(eval $(call CMD_RULE,$(TSAN_BUILD),$(c),$(TSANFLAGS))))

BINS       = $(addprefix $(BUILD)/bin/,$(CMDS))
ASAN_BINS  = $(addprefix $(ASAN_BUILD)/bin/,$(CMDS))
TSAN_BINS  = $(addprefix $(TSAN_BUILD)/bin/,$(CMDS))
TOOLS      = $(addprefix $(BUILD)/tools/,$(notdir $(TOOL_SRC:.c=)))
UNITS      = $(addprefix $(BUILD)/tests/,$(notdir $(UNIT_SRC:.c=)))
ASAN_UNITS = $(addprefix $(ASAN_BUILD)/tests/,$(notdir $(UNIT_SRC:.c=)))

build: $(BINS) $(TOOLS) fonts
asan: $(ASAN_BINS) $(ASAN_UNITS)
tsan: $(TSAN_BINS)

fonts:
	@$(MAKE) --no-print-directory -C fonts BUILD=$(abspath $(BUILD))

-include $(shell find $(BUILD)/obj $(ASAN_BUILD)/obj $(TSAN_BUILD)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- tests
# Each runner prints its own "N passed, N failed" line; tests/summary.sh adds them up.
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) build asan tsan $(UNITS)
	@sh tests/check.sh $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)

unit: $(UNITS)
	@sh tests/run-unit.sh $(BUILD) normal

unit-asan: asan
	@sh tests/run-unit.sh $(ASAN_BUILD) asan

# T=pattern runs only matching integration tests, e.g. make integration T=backup
integration: build asan
	@sh tests/run-integration.sh $(BUILD) $(ASAN_BUILD) /dev/null $(T)

# ---------------------------------------------------------------- demo / bench
demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) build
	@sh mk/demo.sh $(abspath $(BUILD))

demo-stop:
	@sh mk/demo.sh --stop $(abspath $(BUILD))

bench: deps
	@sh mk/deps.sh mk/debian-packages-bench
	@$(MAKE) --no-print-directory -j$(NPROC) build
	@sh bench/run.sh $(abspath $(BUILD))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)

distclean: clean
	rm -rf var
