# muletto: make, make check, make demo, make bench, make iso [CONFIG=FILE] [TRUST=PUBKEY], make clean

CC      ?= cc
PKGS    := blkid libcurl libzstd libcrypto jansson liblzma zlib
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 \
           -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude -pthread -MMD -MP \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer

B       := build
SRCS    := $(wildcard recovery/*/*.c)
OBJS    := $(SRCS:recovery/%.c=$(B)/obj/%.o)
LIBOBJS := $(filter-out $(B)/obj/cli/%,$(OBJS))
SOBJS   := $(SRCS:recovery/%.c=$(B)/san/obj/%.o)
SLIBOBJS:= $(filter-out $(B)/san/obj/cli/%,$(SOBJS))
UNITS   := $(wildcard tests/unit/test_*.c)
UNITBIN := $(UNITS:tests/unit/%.c=$(B)/san/unit/%)

.PHONY: all deps check unit demo bench fuzz iso pxe clean
all: deps
	@$(MAKE) --no-print-directory $(B)/muletto

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

# The boot media: Debian's kernel, firmware, busybox, shim, GRUB, isolinux
# (iso/packages.lock), the initramfs (initramfs/) and the tool.
# make iso CONFIG=FILE bakes FILE in as /etc/muletto.conf; TRUST=PUBKEY bakes in
# the key every restored image must be signed by.
CONFIG ?=
TRUST ?=
INITRD_DEPS := $(B)/muletto initramfs/init initramfs/udhcpc.script initramfs/modules.list \
	iso/packages.lock scripts/mkinitramfs.sh $(B)/config.stamp
$(B)/config.stamp: FORCE
	@mkdir -p $(B)
	@echo "$(CONFIG) $(if $(CONFIG),$(shell sha256sum < $(CONFIG))) $(TRUST) $(if $(TRUST),$(shell sha256sum < $(TRUST)))" > $@.new
	@cmp -s $@ $@.new && rm $@.new || mv $@.new $@
$(B)/debs.stamp: iso/packages.lock scripts/fetch-debs.sh
	@scripts/deps.sh iso
	@scripts/fetch-debs.sh
	@touch $@
$(B)/boot/initrd.img: $(INITRD_DEPS) $(B)/debs.stamp
	@TRUST=$(TRUST) scripts/mkinitramfs.sh $(CONFIG)
$(B)/muletto.iso: $(B)/boot/initrd.img iso/mkiso.sh iso/isolinux.cfg iso/grub.cfg
	@iso/mkiso.sh
$(B)/pxe/pxelinux.0: $(B)/boot/initrd.img iso/mkpxe.sh iso/isolinux.cfg iso/grub.cfg \
	iso/dnsmasq.conf.example
	@iso/mkpxe.sh
iso: deps
	@$(MAKE) --no-print-directory $(B)/muletto $(B)/muletto.iso
pxe: deps
	@$(MAKE) --no-print-directory $(B)/muletto $(B)/pxe/pxelinux.0
FORCE:

check:
	@scripts/deps.sh build check e2e
	@$(MAKE) --no-print-directory $(B)/muletto $(B)/san/muletto $(UNITBIN) $(B)/muletto.iso \
		$(B)/pxe/pxelinux.0
	@tests/run

unit:
	@$(MAKE) --no-print-directory $(B)/san/muletto $(UNITBIN)
	@tests/run unit

demo: all
	@scripts/deps.sh check e2e
	@$(MAKE) --no-print-directory $(B)/muletto.iso
	@tests/demo.sh

bench: all
	@scripts/deps.sh bench check
	@tests/bench.sh
	@tests/bench_sources.sh

# make fuzz: libFuzzer on the index and manifest parsers (FUZZ_SECONDS each run).
FUZZ_SECONDS ?= 60
FUZZ_SRCS := recovery/caibx.c recovery/manifest.c recovery/hash.c recovery/err.c recovery/util.c
fuzz:
	@scripts/deps.sh build fuzz
	@mkdir -p $(B)/fuzz/corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -Iinclude \
		-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
		$(shell pkg-config --cflags jansson) -o $(B)/fuzz/fuzz_parsers tests/fuzz/fuzz_parsers.c \
		$(FUZZ_SRCS) $(shell pkg-config --libs jansson libcrypto) -pthread
	$(B)/fuzz/fuzz_parsers -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/corpus tests/fuzz/seeds

clean:
	rm -rf $(B)

# A change of flags or libraries rebuilds everything.
$(OBJS) $(SOBJS): Makefile

-include $(OBJS:.o=.d) $(SOBJS:.o=.d)
