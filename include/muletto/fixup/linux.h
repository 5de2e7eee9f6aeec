/* A restored Linux system made to boot where it landed (see fixup.h): its
 * root mounted at a private folder (with /boot and the ESP from its fstab,
 * and /dev, /proc, /sys, /run bound), then
 *   - disks named by the old machine's kernel names or by-id/by-path links in
 *     fstab, crypttab, GRUB's command line and initramfs-tools' resume file
 *     rewritten to UUID=;
 *   - its initramfs rebuilt with generic storage drivers (initramfs-tools:
 *     MODULES=most; dracut: --no-hostonly) when it lacks the driver of the
 *     disk's controller (or, when that cannot be told, any of the common ones);
 *   - GRUB installed for the firmware the machine boots with (BIOS: i386-pc on
 *     the disk; UEFI: x86_64-efi into the ESP, and the fallback
 *     \EFI\BOOT\BOOTX64.EFI), from the system's own packages, and its
 *     grub.cfg made anew;
 * each step reported in r, and the report written to /var/log/muletto-fixup.log.
 * With o->dry_run nothing on the disk changes (the root is mounted
 * read-only, without replaying its journal). */
#ifndef MULETTO_FIXUP_LINUX_H
#define MULETTO_FIXUP_LINUX_H

#include "muletto/disk/disk.h"
#include "muletto/fixup/fixup.h"

/* 1 when the file system of p holds a Linux system (etc/os-release), with its
 * name in name; 0 when not; negative with a message when it cannot be read. */
int fixup_linux_probe(const struct disk_part *p, char *name, size_t name_size);

/* Fixes the system whose root is partition root of disk. 0 when every step
 * that was needed was done (or, dry run, could be); a negative code when one
 * failed (r says which and why). */
int fixup_linux(const struct disk_info *disk, const struct disk_part *root,
		const struct fixup_opts *o, struct fixup_report *r);

/* The kernel modules that drive the disk dev on this machine (its controller
 * and the disk driver above it: "ahci libahci sd_mod"), from sysfs; "" when
 * they cannot be told (a loop device, an image file). */
void fixup_storage_modules(const char *dev, char *out, size_t out_size);

#endif
