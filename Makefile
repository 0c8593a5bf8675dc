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
# The BPF programs read the syscall registers of x86-64 (bpf/arch/x86/);
# no other architecture is supported yet (bpf/arch/README.md).
MACHINE  := $(shell uname -m)
ifneq ($(MACHINE),x86_64)
$(error pipjail: only x86-64 is supported (this machine is $(MACHINE)); see bpf/arch/)
endif
ARCH     := x86

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
            -Isrc -Iinclude -I$(BUILD)
LDLIBS   := -lbpf -lelf -lz -lseccomp -lcap -lcjson -lm
LDFLAGS  += $(SANFLAGS)

# bpf/: monitor.bpf.c (the programs, from bpf/programs/), maps.bpf.h,
# helpers/*.bpf.h, arch/<arch>/; headers are included relative to bpf/.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
              -Ibpf -Iinclude -I$(BUILD)

# One folder per layer (src/<layer>/README.md says what it owns, its door
# header and the layers it may call); src/main.c on top.
LAYERS   := base pip jail observe decide stage net report run cmd
SRCS     := src/main.c $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
OBJS     := $(patsubst src/%.c,$(BUILD)/%.o,$(SRCS))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
# The objects of a layer, and of the layers its README says it may call:
# what a unit test, a fuzz target or a bench program of that layer links.
layer_objs = $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/$(1)/*.c))
layer_deps = $(shell sed -n 's/^May call: *//p' src/$(1)/README.md | sed 's/(nothing)//')
module_objs = $(foreach l,$(1) $(call layer_deps,$(1)),$(call layer_objs,$(l)))
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(foreach t,$(UNIT_SRCS),$(BUILD)/tests/$(basename $(notdir $(t))))
# unit.h and the fixtures that tests of several layers share
# (tests/unit/engine_fixture.h, tests/unit/stage/stage_fixture.h).
UNIT_HDRS := $(wildcard tests/unit/*.h tests/unit/*/*.h)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(HELPER_SRCS))

BIN      := $(if $(filter 1,$(SANITIZE)),pipjail-san,pipjail)

.PHONY: all deps check unit demo bench clean install fuzz
all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	@test -r /sys/kernel/btf/vmlinux || { echo "pipjail: /sys/kernel/btf/vmlinux is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)" >&2; exit 1; }
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# BPF: clang -> bpftool gen object -> gen skeleton (libbpf-bootstrap);
# -MMD: the object depends on exactly the headers it includes.
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(BUILD)/$*.bpf.d -MT $@ -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o
	rm -f $@.tmp.o

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# User space: one object per source, its header dependencies from -MMD -MP.
$(BUILD)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The jail's preload library (src/preload/, see its README): plain libc,
# never built with the sanitizers (it is loaded into every program pip
# starts in the jail), and embedded into pipjail (src/run/preload.c), which
# writes it into the jail before the command starts.
PRELOAD_SRCS := src/preload/preload.c src/pip/anchor.c src/jail/landlock_core.c
$(BUILD)/pipjail-preload.so: $(PRELOAD_SRCS) $(wildcard src/preload/*.h src/pip/*.h src/jail/*.h)
	@mkdir -p $(@D)
	$(CC) -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Iinclude -fPIC -shared \
		-fvisibility=hidden -Wl,--no-undefined -Wl,-z,now -o $@ $(PRELOAD_SRCS)
$(BUILD)/run/preload.o: $(BUILD)/pipjail-preload.so
$(BUILD)/run/preload.o: CFLAGS += -DPIPJAIL_PRELOAD_SO='"$(CURDIR)/$(BUILD)/pipjail-preload.so"'

# Only the monitor includes the skeleton: editing the BPF program rebuilds
# it alone (the first build needs the skeleton before -MMD has listed it).
$(BUILD)/observe/monitor.o: $(SKELS)

# The BPF objects of unit tests (tests/unit/observe/*.bpf.c: the monitor's
# helpers run alone with BPF_PROG_TEST_RUN), with the monitor's flags.
TEST_BPF_SRCS := $(wildcard tests/unit/observe/*.bpf.c)
TEST_SKELS    := $(patsubst tests/unit/observe/%.bpf.c,$(BUILD)/tests/%.skel.h,$(TEST_BPF_SRCS))
$(BUILD)/tests/%.bpf.o: tests/unit/observe/%.bpf.c $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(BUILD)/tests/$*.bpf.d -MT $@ -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o
	rm -f $@.tmp.o

$(BUILD)/tests/%.skel.h: $(BUILD)/tests/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/test_pip_exec: $(BUILD)/tests/pip_exec.skel.h
$(BUILD)/tests/test_unix_path: $(BUILD)/tests/unix_path.skel.h

-include $(OBJS:.o=.d) $(SKELS:.skel.h=.bpf.d) $(TEST_SKELS:.skel.h=.bpf.d)

# A unit test links the layer it tests (its folder under tests/unit/) and
# the layers that layer may call, nothing else: a module that needs one of
# its callers does not link.
define unit_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(1) $(call module_objs,$(notdir $(patsubst %/,%,$(dir $(1))))) $(UNIT_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$< $(call module_objs,$(notdir $(patsubst %/,%,$(dir $(1))))) $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRCS),$(eval $(call unit_rule,$(t))))

# Helper programs that tests run inside the jail (attacks and probes).
# Built without sanitizers: they run under seccomp, as the jailed user.
$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

deps:
	@scripts/deps.sh

# The test suite: unit tests, then the integration suite (real jails, real
# pip), then the same suite against the ASan/UBSan build.
check:
	$(MAKE) all $(HELPER_BINS) $(UNIT_BINS)
	$(PYTHON) scripts/check-layers.py $(BUILD)
	$(MAKE) SANITIZE=1 all
	$(PYTHON) tests/run.py

demo: all
	scripts/demo.sh

bench: all $(HELPER_BINS) $(BUILD)/bench/bench_monitor
	scripts/bench.sh

# The monitor alone, without the jail: what it adds per call (make bench).
$(BUILD)/bench/bench_monitor: tests/bench/bench_monitor.c $(call module_objs,observe)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(call module_objs,observe) $(LDLIBS)

# The egress proxy alone on loopback (scripts/bench_proxy.sh), with
# decide/'s decoy scanner for the token check that run/egress.c plugs in.
BENCH_PROXY_OBJS := $(sort $(call module_objs,net) $(call module_objs,decide))
$(BUILD)/bench/bench_proxy: tests/bench/bench_proxy.c $(BENCH_PROXY_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BENCH_PROXY_OBJS) $(LDLIBS)

install: all
	install -D -m 0755 pipjail $(DESTDIR)/usr/local/bin/pipjail
	install -d $(DESTDIR)/usr/local/share/pipjail/profiles
	install -m 0644 profiles/*.json $(DESTDIR)/usr/local/share/pipjail/profiles/
	@scripts/setcap.sh $(DESTDIR)/usr/local/bin/pipjail

# libFuzzer targets for every parser of untrusted input (profiles, globs,
# traces, RECORD files, proxy requests, the monitor's ring-buffer records
# alone and into the engine).  Objects are built with coverage
# instrumentation in build-fuzz/; each target tests/fuzz/<layer>/fuzz_<name>.c
# runs FUZZ_TIME seconds from its corpus in tests/fuzz/corpus/<name>/, where
# crash inputs are kept; FUZZ_TARGETS="decode decode_engine" runs only those.
FUZZ_TIME    ?= 60
FUZZ_SRCS    := $(wildcard tests/fuzz/*/fuzz_*.c)
FUZZ_NAMES   := $(patsubst fuzz_%,%,$(basename $(notdir $(FUZZ_SRCS))))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_FLAGS   := -g -O1 -std=gnu11 -D_GNU_SOURCE -DPIPJAIL_VERSION='"$(VERSION)"' \
                -fsanitize=address,undefined -fno-sanitize-recover=all -Isrc -Iinclude -Ibuild
fuzz_objs = $(patsubst $(BUILD)/%,build-fuzz/%,$(call module_objs,$(1)))

build-fuzz/observe/monitor.o: $(SKELS)
build-fuzz/%.o: src/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c $< -o $@

-include $(wildcard build-fuzz/*/*.d)

# A fuzz target links the layer of its folder under tests/fuzz/ and the
# layers that layer may call.
define fuzz_rule
build-fuzz/fuzz_$(1): $(2) $(call fuzz_objs,$(3)) $(wildcard tests/fuzz/*.h)
	$$(CLANG) $$(FUZZ_FLAGS) -fsanitize=fuzzer -o $$@ $$< $(call fuzz_objs,$(3)) $$(LDLIBS)
endef
$(foreach f,$(FUZZ_SRCS),$(eval $(call fuzz_rule,$(patsubst fuzz_%,%,$(basename $(notdir $(f)))),$(f),$(notdir $(patsubst %/,%,$(dir $(f)))))))

# A target that finds a crash stops the run (its log: fuzz-out/<name>.log).
fuzz: $(patsubst %,build-fuzz/fuzz_%,$(FUZZ_TARGETS))
	@for n in $(FUZZ_TARGETS); do \
		mkdir -p tests/fuzz/corpus/$$n fuzz-out/$$n; \
		echo "== fuzz_$$n ($(FUZZ_TIME) s)"; \
		build-fuzz/fuzz_$$n -max_total_time=$(FUZZ_TIME) -max_len=65536 \
			-artifact_prefix=tests/fuzz/corpus/$$n/ fuzz-out/$$n tests/fuzz/corpus/$$n \
			>fuzz-out/$$n.log 2>&1; rc=$$?; tail -n 3 fuzz-out/$$n.log; \
		[ $$rc -eq 0 ] || { echo "fuzz_$$n failed (exit $$rc): fuzz-out/$$n.log"; exit 1; }; \
	done

clean:
	rm -rf build build-san build-fuzz fuzz-out pipjail pipjail-san
