# pipjail build.  Pipeline for the BPF side follows libbpf-bootstrap:
#   vmlinux.h (bpftool btf dump) -> clang -target bpf -> bpftool gen object
#   -> bpftool gen skeleton -> #include "<name>.skel.h" in src/monitor.c
#
#   make            build ./pipjail
#   make deps       install the missing Debian packages (root)
#   make check      build, then run every test (root)
#   make demo       install the bundled example packages under pipjail (root)
#   make bench      benchmarks, figures as ratios against a baseline
#   make SANITIZE=1 build with AddressSanitizer + UBSan into build-san/

CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PYTHON   ?= /usr/bin/python3

VERSION  := 0.1.0
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(SANITIZE),1)
BUILD    := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD    := build
SANFLAGS :=
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-missing-field-initializers \
            -D_GNU_SOURCE -DPIPJAIL_VERSION='"$(VERSION)"' $(SANFLAGS) \
            -Iinclude -I$(BUILD)
LDLIBS   := -lbpf -lelf -lz -lseccomp -lcap -lcjson -lm
LDFLAGS  += $(SANFLAGS)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
              -Iinclude -I$(BUILD)

SRCS     := $(wildcard src/*.c)
OBJS     := $(patsubst src/%.c,$(BUILD)/%.o,$(SRCS))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(HELPER_SRCS))

BIN      := $(if $(filter 1,$(SANITIZE)),pipjail-san,pipjail)

.PHONY: all deps check unit demo bench clean install fuzz
all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD):
	mkdir -p $(BUILD) $(BUILD)/tests $(BUILD)/helpers

$(BUILD)/vmlinux.h: | $(BUILD)
	@test -r /sys/kernel/btf/vmlinux || { echo "pipjail: /sys/kernel/btf/vmlinux is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)" >&2; exit 1; }
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(wildcard include/*.h) $(BUILD)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o
	rm -f $@.tmp.o

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# Every user-space object may include a skeleton; generating them first is cheap.
$(BUILD)/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/*.h) $(SKELS) | $(BUILD)
	$(CC) $(CFLAGS) -c $< -o $@

# Unit tests link every object except main.o.
LIB_OBJS := $(filter-out $(BUILD)/main.o,$(OBJS))
$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) tests/unit/unit.h | $(BUILD)
	$(CC) $(CFLAGS) -iquote src $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

# Helper programs that tests run inside the jail (attacks and probes).
# Built without sanitizers: they run under seccomp, as the jailed user.
$(BUILD)/helpers/%: tests/helpers/%.c | $(BUILD)
	$(CC) -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

deps:
	@scripts/deps.sh

# The test suite: unit tests, then the integration suite (real jails, real
# pip), then the same suite against the ASan/UBSan build.
check: deps
	$(MAKE) all $(HELPER_BINS) $(UNIT_BINS)
	$(MAKE) SANITIZE=1 all
	$(PYTHON) tests/run.py

demo: deps all
	scripts/demo.sh

bench: deps all $(HELPER_BINS) $(BUILD)/bench/bench_monitor
	scripts/bench.sh

# The monitor alone, without the jail: what it adds per call (make bench).
$(BUILD)/bench/bench_monitor: tests/bench/bench_monitor.c $(LIB_OBJS) | $(BUILD)
	mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS) -iquote src $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

install: all
	install -D -m 0755 pipjail $(DESTDIR)/usr/local/bin/pipjail
	install -d $(DESTDIR)/usr/local/share/pipjail/profiles
	install -m 0644 profiles/*.json $(DESTDIR)/usr/local/share/pipjail/profiles/
	@scripts/setcap.sh $(DESTDIR)/usr/local/bin/pipjail

# libFuzzer targets for every parser of untrusted input (profiles, globs,
# traces, RECORD files, proxy requests).  Objects are built with coverage
# instrumentation in build-fuzz/; each target runs FUZZ_TIME seconds from
# its corpus in tests/fuzz/corpus/<name>/, where crash inputs are kept.
FUZZ_TIME    ?= 60
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS   := -g -O1 -std=gnu11 -D_GNU_SOURCE -DPIPJAIL_VERSION='"$(VERSION)"' \
                -fsanitize=address,undefined -fno-sanitize-recover=all -Iinclude -iquote src -Ibuild
FUZZ_OBJS    := $(patsubst src/%.c,build-fuzz/%.o,$(filter-out src/main.c,$(SRCS)))

build-fuzz/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/*.h) $(SKELS)
	@mkdir -p build-fuzz
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LDLIBS)

fuzz: $(patsubst %,build-fuzz/fuzz_%,$(FUZZ_NAMES))
	@for n in $(FUZZ_NAMES); do \
		mkdir -p tests/fuzz/corpus/$$n fuzz-out/$$n; \
		echo "== fuzz_$$n ($(FUZZ_TIME) s)"; \
		build-fuzz/fuzz_$$n -max_total_time=$(FUZZ_TIME) -max_len=65536 \
			-artifact_prefix=tests/fuzz/corpus/$$n/crash- fuzz-out/$$n tests/fuzz/corpus/$$n \
			2>&1 | tail -n 3 || exit 1; \
	done

clean:
	rm -rf build build-san build-fuzz fuzz-out pipjail pipjail-san
