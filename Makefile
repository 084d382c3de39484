# nestlab — one `make` builds the host tool, the VMM image and the guest images.
#
#   make            build everything into build/
#   make run        run the default experiment (configs/hello.xml) under Bochs
#   make check      unit tests (CUnit) then integration scenarios under Bochs
#   make bench      benchmarks: ratios measured side by side in one run
#   make deps       install the Debian packages the project needs (root)

BUILD    ?= build
HOST_CC  ?= cc
BM_CC    ?= gcc
EXPERIMENT ?= configs/hello.xml

WARN := -Wall -Wextra -Werror
HOST_PKGS := libxml-2.0 jansson
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -Ilib -Iexperiments -Ivmm -Isched -Ipolicy -Inested \
	$(shell pkg-config --cflags $(HOST_PKGS) 2>/dev/null)
HOST_LIBS := $(shell pkg-config --libs $(HOST_PKGS) 2>/dev/null)

# Bare-metal code: no libc, no red zone (interrupts and VM exits land on the
# stack), no SSE (VMM code never saves guest vector state), static non-PIE.
BM_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -Ilib -Il0 -Ivmm -Isched -Ipolicy -Inested -ffreestanding -fno-stack-protector \
	-fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer -fcf-protection=none
BM_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack

# Pure freestanding library code that the host also compiles (for unit tests
# and for the host tool's manifest encoder).
LIB_PURE := lib/x86.c lib/fmt.c lib/jsonw.c lib/json_check.c lib/crc32.c lib/manifest.c lib/elf64.c \
	lib/frame_alloc.c lib/vmx_names.c lib/record_path.c lib/latency.c
LIB_BM   := $(LIB_PURE) lib/string.c
# VMM logic that is plain C over plain data: unit-tested on the host.
VMM_PURE := vmm/ept.c vmm/vmcs_check.c vmm/exit_table.c vmm/vlapic.c vmm/apicv.c vmm/mmio_decode.c vmm/irq_source.c sched/rr.c sched/sched.c sched/timer_mux.c policy/sched_policy.c policy/irq_route.c
# Virtual VMX for child VMMs: the pure parts of nested/ (the runtime is nested/nested_*.c).
VMM_PURE += nested/vmcs12.c nested/vmx_insn_decode.c nested/guest_walk.c nested/vmx_insn.c nested/vmx_msr.c
VMM_PURE += nested/reflect.c nested/vmcs02_merge.c nested/ept_shadow.c nested/vpid_map.c nested/event_combine.c

# The VMM image: platforms (l0/ at the root, l1/ as a child; chosen at boot), VMM core (vmm/),
# schedulers (sched/), policies (policy/).
VMM_SRCS := $(wildcard l0/*.c l0/*.S l1/*.c l1/*.S vmm/*.c vmm/*.S nested/*.c sched/*.c policy/*.c) $(LIB_BM) \
	guests/leaf/compute.c # the bench's native baseline runs the leaf's own loop
LEAF_SRCS := $(wildcard guests/leaf/*.c guests/leaf/*.S) $(LIB_BM)
# The hostile test VMM (guests/hostile/) links the leaf's record/console and x2APIC code rather than copying them.
HOSTILE_SRCS := $(wildcard guests/hostile/*.c guests/hostile/*.S) guests/leaf/emit.c guests/leaf/x2apic.c $(LIB_BM)

HOST_TOOL_SRCS := $(filter-out experiments/main.c,$(wildcard experiments/*.c experiments/*.S))
UNIT_SRCS := $(wildcard tests/unit/*.c)
INTEG_SRCS := $(wildcard tests/integration/*.c)

bm_obj = $(patsubst %,$(BUILD)/bm/%.o,$(1))
host_obj = $(patsubst %,$(BUILD)/host/%.o,$(1))

NESTLAB := $(BUILD)/bin/nestlab
VMM_IMG := $(BUILD)/images/nestlab-vmm.elf
LEAF_IMG := $(BUILD)/images/leaf.elf
HOSTILE_IMG := $(BUILD)/images/hostile.elf
UNIT_BIN := $(BUILD)/tests/unit-tests
INTEG_BIN := $(BUILD)/tests/integration-tests

.PHONY: all deps run check unit integration bench clean
all: $(NESTLAB) $(VMM_IMG) $(LEAF_IMG) $(HOSTILE_IMG) $(UNIT_BIN) $(INTEG_BIN)

deps:
	bash scripts/install-deps.sh

$(BUILD)/bm/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(BM_CC) $(BM_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/bm/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(BM_CC) $(BM_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/host/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/host/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@
# The schema is pulled in with .incbin, which -MMD does not see.
$(BUILD)/host/experiments/schema.S.o: configs/nestlab.xsd

$(VMM_IMG): $(call bm_obj,$(VMM_SRCS)) l0/link.ld
	@mkdir -p $(dir $@)
	$(BM_CC) $(BM_LDFLAGS) -T l0/link.ld -o $@ $(call bm_obj,$(VMM_SRCS))

$(LEAF_IMG): $(call bm_obj,$(LEAF_SRCS)) guests/leaf/link.ld
	@mkdir -p $(dir $@)
	$(BM_CC) $(BM_LDFLAGS) -T guests/leaf/link.ld -o $@ $(call bm_obj,$(LEAF_SRCS))

$(HOSTILE_IMG): $(call bm_obj,$(HOSTILE_SRCS)) guests/hostile/link.ld
	@mkdir -p $(dir $@)
	$(BM_CC) $(BM_LDFLAGS) -T guests/hostile/link.ld -o $@ $(call bm_obj,$(HOSTILE_SRCS))

$(NESTLAB): $(call host_obj,experiments/main.c $(HOST_TOOL_SRCS) $(LIB_PURE))
	@mkdir -p $(dir $@)
	$(HOST_CC) -o $@ $^ $(HOST_LIBS)

$(UNIT_BIN): $(call host_obj,$(UNIT_SRCS) $(HOST_TOOL_SRCS) $(LIB_PURE) $(VMM_PURE))
	@mkdir -p $(dir $@)
	$(HOST_CC) -o $@ $^ $(HOST_LIBS) -lcunit -lm

$(INTEG_BIN): $(call host_obj,$(INTEG_SRCS))
	@mkdir -p $(dir $@)
	$(HOST_CC) -o $@ $^ $(HOST_LIBS) -lcunit

run: deps all
	$(NESTLAB) run $(EXPERIMENT) --out $(BUILD)/results/$(notdir $(basename $(EXPERIMENT)))

unit: $(UNIT_BIN)
	$(UNIT_BIN)

integration: $(INTEG_BIN) $(NESTLAB) $(VMM_IMG) $(LEAF_IMG) $(HOSTILE_IMG)
	$(INTEG_BIN) --nestlab $(NESTLAB) --work $(BUILD)/integration

check: deps all
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory integration

bench: deps all
	bash bench/run.sh $(NESTLAB) $(BUILD)/bench

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
