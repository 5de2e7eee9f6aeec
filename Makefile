# muletto: make, make check, make demo, make bench, make iso [CONFIG=FILE] [TRUST=PUBKEY] [SSH_KEYS=FILE], make clean

CC      ?= cc
PKGS    := blkid fdisk fuse3 libcurl libzstd libcrypto jansson liblzma zlib hivex libnewt slang
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 \
           -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude -pthread -MMD -MP \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer

B       := build
# builds run on every core (make check's inner build too)
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
SRCS    := $(wildcard recovery/*/*.c)
OBJS    := $(SRCS:recovery/%.c=$(B)/obj/%.o)
LIBOBJS := $(filter-out $(B)/obj/cli/%,$(OBJS))
SOBJS   := $(SRCS:recovery/%.c=$(B)/san/obj/%.o)
SLIBOBJS:= $(filter-out $(B)/san/obj/cli/%,$(SOBJS))
UNITS   := $(wildcard tests/unit/test_*.c)
UNITBIN := $(UNITS:tests/unit/%.c=$(B)/san/unit/%)

.PHONY: all deps check unit demo bench fuzz iso pxe clean
all: deps
	@$(MAKE) -j$(JOBS) --no-print-directory $(B)/muletto

deps:
	@scripts/deps.sh build

$(B)/muletto: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/obj/%.o: recovery/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# make check: sanitised builds of the tool and the unit tests, then every test.
$(B)/san/muletto: $(SOBJS)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

$(B)/san/obj/%.o: recovery/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

$(B)/san/unit/%: tests/unit/%.c $(SLIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -Itests/unit -o $@ $^ $(LDLIBS)

# The NBD server behind a file, for real NBD clients to test the protocol on
# (tests/integration/nbd_protocol.sh).
NBDTEST := $(B)/san/nbd_file_server
$(NBDTEST): tests/nbd/nbd_file_server.c $(SLIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

# fixup_windows on a disk, until muletto fixup calls it
# (tests/integration/fixup_windows.sh).
FIXUPWIN := $(B)/san/fixup_win
$(FIXUPWIN): tests/fixup/fixup_win.c $(SLIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

# The boot media: Debian's kernel, firmware, busybox, shim, GRUB, isolinux
# (iso/packages.lock), the initramfs (initramfs/) and the tool.
# make iso CONFIG=FILE bakes FILE in as /etc/muletto.conf; TRUST=PUBKEY bakes in
# the key every restored image must be signed by.
CONFIG ?=
TRUST ?=
# SSH_KEYS=FILE: public keys that may log into the boot environment over SSH
SSH_KEYS ?=
INITRD_DEPS := $(B)/muletto initramfs/init initramfs/udhcpc.script initramfs/modules.list \
	initramfs/qemu.list initramfs/tools.list \
	iso/packages.lock scripts/mkinitramfs.sh $(B)/config.stamp
$(B)/config.stamp: FORCE
	@mkdir -p $(B)
	@echo "$(CONFIG) $(if $(CONFIG),$(shell sha256sum < $(CONFIG))) $(TRUST) $(if $(TRUST),$(shell sha256sum < $(TRUST))) $(SSH_KEYS) $(if $(SSH_KEYS),$(shell sha256sum < $(SSH_KEYS)))" > $@.new
	@cmp -s $@ $@.new && rm $@.new || mv $@.new $@
$(B)/debs.stamp: iso/packages.lock scripts/fetch-debs.sh
	@scripts/deps.sh iso
	@scripts/fetch-debs.sh
	@touch $@
$(B)/boot/initrd.img: $(INITRD_DEPS) $(B)/debs.stamp
	@TRUST=$(TRUST) SSH_KEYS=$(SSH_KEYS) scripts/mkinitramfs.sh $(CONFIG)
$(B)/muletto.iso: $(B)/boot/initrd.img iso/mkiso.sh iso/isolinux.cfg iso/grub.cfg
	@iso/mkiso.sh
$(B)/pxe/pxelinux.0: $(B)/boot/initrd.img iso/mkpxe.sh iso/isolinux.cfg iso/grub.cfg \
	iso/dnsmasq.conf.example
	@iso/mkpxe.sh
iso: deps
	@$(MAKE) -j$(JOBS) --no-print-directory $(B)/muletto $(B)/muletto.iso
pxe: deps
	@$(MAKE) -j$(JOBS) --no-print-directory $(B)/muletto $(B)/pxe/pxelinux.0
FORCE:

check:
	@scripts/deps.sh build check e2e
	@$(MAKE) -j$(JOBS) --no-print-directory $(B)/muletto $(B)/san/muletto $(UNITBIN) $(FUZZSMOKE) \
		$(NBDTEST) $(FIXUPWIN) $(B)/muletto.iso $(B)/pxe/pxelinux.0
	@tests/run

unit:
	@$(MAKE) -j$(JOBS) --no-print-directory $(B)/san/muletto $(UNITBIN) $(FUZZSMOKE) $(NBDTEST) $(FIXUPWIN)
	@tests/run unit

demo: all
	@scripts/deps.sh check e2e
	@$(MAKE) --no-print-directory $(B)/muletto.iso
	@tests/demo.sh

bench: all
	@scripts/deps.sh bench check
	@$(MAKE) --no-print-directory $(B)/boot/initrd.img
	@tests/bench.sh
	@tests/bench_sources.sh
	@tests/bench_serve.sh
	@tests/bench_layout.sh

# make fuzz: libFuzzer on every parser of what servers, media, NBD clients and
# the status page's clients send (tests/fuzz/fuzz.c), FUZZ_SECONDS each,
# seeded from tests/fuzz/seeds/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := index manifest url html s3 lines sign conf nbd status
# Of serve/ only the NBD server (the rest mounts images and serves VMs' disks
# through disk/ and engine/), of ui/ only its libc-only request parser.
FUZZ_LIB  := $(filter recovery/core/% recovery/format/% recovery/store/% recovery/serve/nbd%,$(SRCS)) \
	recovery/ui/status_req.c
FUZZ_OBJS := $(FUZZ_LIB:recovery/%.c=$(B)/fuzz/obj/%.o)
FUZZ_CC   := clang -g -O1 -fsanitize=address,undefined -std=gnu11 -D_GNU_SOURCE \
	-D_FILE_OFFSET_BITS=64 -Iinclude -pthread $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
$(B)/fuzz/obj/%.o: recovery/%.c
	@mkdir -p $(@D)
	@$(FUZZ_CC) -fsanitize=fuzzer-no-link -c -o $@ $<
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz.c $(FUZZ_OBJS)
	@echo "  fuzz target $*"
	@$(FUZZ_CC) -fsanitize=fuzzer -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -DFUZZ_TARGET=$* \
		-o $@ $^ $(LDLIBS)
fuzz:
	@scripts/deps.sh build fuzz
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(B)/fuzz/corpus/$$t; \
		echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		$(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(B)/fuzz/corpus/$$t tests/fuzz/seeds/$$t >$(B)/fuzz/$$t.log 2>&1 || \
			{ grep -A30 -E '^==[0-9]+==ERROR|deadly signal' $(B)/fuzz/$$t.log; \
			  echo "fuzz $$t: FAILED (the input is saved as crash-*; log $(B)/fuzz/$$t.log)"; \
			  exit 1; }; \
		grep -E '^Done' $(B)/fuzz/$$t.log; \
	done

# The fuzz targets as plain programs (sanitised, no libFuzzer): make check
# runs every seed through them.
$(B)/san/fuzz/fuzz_%: tests/fuzz/fuzz.c $(SLIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -DFUZZ_TARGET=$* -o $@ $^ $(LDLIBS)
FUZZSMOKE := $(FUZZ_TARGETS:%=$(B)/san/fuzz/fuzz_%)

clean:
	rm -rf $(B)

# A change of flags or libraries rebuilds everything.
$(OBJS) $(SOBJS) $(FUZZ_OBJS): Makefile

-include $(OBJS:.o=.d) $(SOBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
