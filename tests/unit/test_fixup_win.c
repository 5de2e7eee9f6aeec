/* Unit tests: Windows registry values read and written offline (BCD device
 * elements, lists of strings). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "muletto/fixup/report_text.h"
#include "muletto/fixup/win.h"
#include "muletto/fixup/win_hive.h"

/* A GPT partition element as bcdedit stores it: partition GUID
 * 0f8f5a2c-1b2d-4e3f-9a8b-7c6d5e4f3a2b, disk GUID 11223344-5566-7788-99aa-bbccddeeff00. */
static const uint8_t gpt_elem[WIN_BCD_DEVICE_LEN] = {
	[0x10] = 6, [0x18] = 0x48, [0x20] = 0x2c, 0x5a, 0x8f, 0x0f, 0x2d, 0x1b, 0x3f,
	0x4e,	    0x9a,	   0x8b,	  0x7c, 0x6d, 0x5e, 0x4f, 0x3a, 0x2b,
	[0x34] = 0, [0x38] = 0x44, 0x33,	  0x22, 0x11, 0x66, 0x55, 0x88, 0x77,
	0x99,	    0xaa,	   0xbb,	  0xcc, 0xdd, 0xee, 0xff, 0x00,
};

/* MBR: the partition at 1 MiB of the disk with signature 0xdeadbeef */
static const uint8_t mbr_elem[WIN_BCD_DEVICE_LEN] = {
	[0x10] = 6, [0x18] = 0x48, [0x22] = 0x10, [0x34] = 1, [0x38] = 0xef, 0xbe, 0xad, 0xde,
};

static void gpt_element_names_partition_and_disk(void)
{
	struct win_bcd_device d;

	CHECK(win_bcd_device_parse(gpt_elem, sizeof(gpt_elem), &d) == 1);
	CHECK(d.gpt == 1);
	CHECK(!strcmp(d.part_guid, "0f8f5a2c-1b2d-4e3f-9a8b-7c6d5e4f3a2b"));
	CHECK(!strcmp(d.disk_guid, "11223344-5566-7788-99aa-bbccddeeff00"));
}

static void mbr_element_names_offset_and_signature(void)
{
	struct win_bcd_device d;

	CHECK(win_bcd_device_parse(mbr_elem, sizeof(mbr_elem), &d) == 1);
	CHECK(d.gpt == 0);
	CHECK(d.offset == 1048576);
	CHECK(d.signature == 0xdeadbeef);
}

static void element_written_back_changes_only_the_identity(void)
{
	uint8_t b[WIN_BCD_DEVICE_LEN];
	struct win_bcd_device d;

	memcpy(b, gpt_elem, sizeof(b));
	CHECK(win_bcd_device_parse(b, sizeof(b), &d) == 1);
	win_bcd_device_write(b, &d);
	CHECK(!memcmp(b, gpt_elem, sizeof(b)));
	strcpy(d.disk_guid, "aabbccdd-0011-2233-4455-66778899aabb");
	win_bcd_device_write(b, &d);
	CHECK(!memcmp(b, gpt_elem, 0x38));
	CHECK(b[0x38] == 0xdd && b[0x3b] == 0xaa && b[0x3c] == 0x11 && b[0x47] == 0xbb);
	CHECK(win_bcd_device_parse(b, sizeof(b), &d) == 1 &&
	      !strcmp(d.disk_guid, "aabbccdd-0011-2233-4455-66778899aabb"));

	memcpy(b, mbr_elem, sizeof(b));
	CHECK(win_bcd_device_parse(b, sizeof(b), &d) == 1);
	d.offset = 0x123456789ULL * 512;
	d.signature = 0x01020304;
	win_bcd_device_write(b, &d);
	CHECK(win_bcd_device_parse(b, sizeof(b), &d) == 1 && d.offset == 0x123456789ULL * 512 &&
	      d.signature == 0x01020304 && !d.gpt);
	CHECK(b[0x34] == 1 && b[0x38] == 4 && b[0x3b] == 1);
}

static void other_elements_are_not_parsed(void)
{
	uint8_t b[WIN_BCD_DEVICE_LEN + 8];
	struct win_bcd_device d = { .offset = 7 };

	memcpy(b, gpt_elem, WIN_BCD_DEVICE_LEN);
	b[0x10] = 5; /* the boot device */
	CHECK(win_bcd_device_parse(b, WIN_BCD_DEVICE_LEN, &d) == 0);
	memcpy(b, gpt_elem, WIN_BCD_DEVICE_LEN);
	b[3] = 0x77; /* a ramdisk's options GUID */
	CHECK(win_bcd_device_parse(b, WIN_BCD_DEVICE_LEN, &d) == 0);
	memcpy(b, gpt_elem, WIN_BCD_DEVICE_LEN);
	CHECK(win_bcd_device_parse(b, sizeof(b), &d) == 0); /* longer: a VHD inside */
	CHECK(win_bcd_device_parse(b, 12, &d) == -EINVAL);
	b[0x18] = 0x40; /* a length that does not match */
	CHECK(win_bcd_device_parse(b, WIN_BCD_DEVICE_LEN, &d) == -EINVAL);
	memcpy(b, gpt_elem, WIN_BCD_DEVICE_LEN);
	b[0x34] = 9; /* no such partition style */
	CHECK(win_bcd_device_parse(b, WIN_BCD_DEVICE_LEN, &d) == -EINVAL);
	CHECK(d.offset == 7); /* untouched on failure */
}

static void mounted_devices_name_a_volume(void)
{
	static const uint8_t mbr[12] = { 0xef, 0xbe, 0xad, 0xde, 0, 0x7e, 0, 0, 0, 0, 0, 0 };
	uint8_t gpt[24] = "DMIO:ID:", out[24];
	struct win_bcd_device d;

	memcpy(gpt + 8, gpt_elem + 0x20, 16);
	CHECK(win_mounted_parse(gpt, sizeof(gpt), &d) == 1 && d.gpt &&
	      !strcmp(d.part_guid, "0f8f5a2c-1b2d-4e3f-9a8b-7c6d5e4f3a2b") && !d.disk_guid[0]);
	CHECK(win_mounted_make(&d, out) == 24 && !memcmp(out, gpt, 24));
	CHECK(win_mounted_parse(mbr, sizeof(mbr), &d) == 1 && !d.gpt && d.offset == 32256 &&
	      d.signature == 0xdeadbeef);
	CHECK(win_mounted_make(&d, out) == 12 && !memcmp(out, mbr, 12));
	CHECK(win_mounted_parse((const uint8_t *)"_\0?\0?\0", 6, &d) == 0); /* removable: text */
	gpt[0] = 'X';
	CHECK(win_mounted_parse(gpt, sizeof(gpt), &d) == 0);
}

static void partitions_have_the_identity_windows_gives_them(void)
{
	struct disk_part parts[2] = {
		{ .number = 1, .start = 1048576, .uuid = "0F8F5A2C-1B2D-4E3F-9A8B-7C6D5E4F3A2B" },
		{ .number = 2, .start = 17825792, .uuid = "0badcafe-02" }
	};
	struct disk_info d = { .pt_type = "gpt",
			       .pt_uuid = "11223344-5566-7788-99AA-BBCCDDEEFF00",
			       .nparts = 2,
			       .parts = parts };
	struct win_bcd_device id = { .offset = 9 };
	uint8_t b[WIN_BCD_DEVICE_LEN] = { [0x10] = 6, [0x18] = 0x48 };

	CHECK(win_part_identity(&d, &parts[0], &id) == 0 && id.gpt &&
	      !strcmp(id.part_guid, "0f8f5a2c-1b2d-4e3f-9a8b-7c6d5e4f3a2b") &&
	      !strcmp(id.disk_guid, "11223344-5566-7788-99aa-bbccddeeff00"));
	win_bcd_device_write(b, &id);
	CHECK(!memcmp(b, gpt_elem, sizeof(b)));			 /* as bcdedit writes it */
	CHECK(win_part_identity(&d, &parts[1], &id) == -EINVAL); /* no GUID */
	strcpy(d.pt_type, "dos");
	strcpy(d.pt_uuid, "0badcafe");
	CHECK(win_part_identity(&d, &parts[1], &id) == 0 && !id.gpt && id.offset == 17825792 &&
	      id.signature == 0x0badcafe);
	strcpy(d.pt_uuid, "");
	CHECK(win_part_identity(&d, &parts[1], &id) == -EINVAL);
	strcpy(d.pt_type, "");
	CHECK(win_part_identity(&d, &parts[0], &id) == -EINVAL);
}

static void guids_parse_and_format_in_windows_order(void)
{
	uint8_t g[16];
	char s[37];

	CHECK(win_guid_parse("4D36E967-E325-11CE-BFC1-08002BE10318", g) == 0);
	CHECK(g[0] == 0x67 && g[3] == 0x4d && g[4] == 0x25 && g[6] == 0xce && g[8] == 0xbf &&
	      g[15] == 0x18);
	win_guid_format(g, s);
	CHECK(!strcmp(s, "4d36e967-e325-11ce-bfc1-08002be10318"));
	CHECK(win_guid_parse("4d36e967-e325-11ce-bfc1-08002be1031", g) == -EINVAL);
	CHECK(win_guid_parse("4d36e967+e325-11ce-bfc1-08002be10318", g) == -EINVAL);
	CHECK(win_guid_parse("4d36e967-e325-11ce-bfc1-08002be1031x", g) == -EINVAL);
}

/* UTF-16LE of a list like "a\0b\0\0" */
static size_t multisz(const char *const names[], uint8_t *out)
{
	size_t o = 0, i, k;

	for (i = 0; names[i]; i++) {
		for (k = 0; names[i][k]; k++) {
			out[o++] = (uint8_t)names[i][k];
			out[o++] = 0;
		}
		out[o++] = 0;
		out[o++] = 0;
	}
	out[o++] = 0;
	out[o++] = 0;
	return o;
}

static int known(const char *name, void *ctx)
{
	(void)ctx;
	return !strcmp(name, "partmgr") || !strcmp(name, "EhStorClass");
}

static void multisz_drops_what_keep_refuses(void)
{
	static const char *const in_names[] = { "EhStorClass", "gonefilter", "partmgr", "other",
						NULL };
	static const char *const want_names[] = { "EhStorClass", "partmgr", NULL };
	static const char *const none[] = { NULL };
	uint8_t in[128], want[128], out[132];
	char dropped[64];
	size_t len = multisz(in_names, in), wl = multisz(want_names, want), n;

	n = win_multisz_filter(in, len, out, known, NULL, dropped, sizeof(dropped));
	CHECK(n == wl && !memcmp(out, want, wl));
	CHECK(!strcmp(dropped, "gonefilter, other"));

	len = multisz(want_names, in); /* nothing to drop: the same bytes */
	n = win_multisz_filter(in, len, out, known, NULL, dropped, sizeof(dropped));
	CHECK(n == len && !memcmp(out, in, len) && !dropped[0]);

	len = multisz(in_names, in) - 4; /* cut short after "other" lost its NULs */
	n = win_multisz_filter(in, len, out, known, NULL, dropped, sizeof(dropped));
	CHECK(n == wl && !memcmp(out, want, wl) && !strcmp(dropped, "gonefilter, other"));

	n = win_multisz_filter(in, 0, out, known, NULL, dropped, sizeof(dropped));
	CHECK(n == 0);
	len = multisz(none, in);
	n = win_multisz_filter(in, len, out, known, NULL, dropped, sizeof(dropped));
	CHECK(n == 2 && !out[0] && !out[1]);
}

static void report_text_ends_lines_in_crlf_for_windows(void)
{
	struct fixup_report r = { .kind = "windows",
				  .name = "Windows 10 Pro",
				  .partition = "/dev/sdb3" };
	char *s;

	fixup_note(&r, FIXUP_CHANGED, "ControlSet001\\Services\\stornvme\\Start",
		   "3 -> 0 (boot start)");
	fixup_note(&r, FIXUP_KEPT, "ControlSet001\\Control\\CrashControl\\AutoReboot", "0");
	s = fixup_report_string(&r, 1);
	CHECK(s &&
	      !strcmp(s,
		      "muletto fixup: windows: Windows 10 Pro on /dev/sdb3\r\n"
		      "  changed        ControlSet001\\Services\\stornvme\\Start: 3 -> 0 (boot "
		      "start)\r\n"
		      "  already right  ControlSet001\\Control\\CrashControl\\AutoReboot: 0\r\n"));
	free(s);
	s = fixup_report_string(&r, 0);
	CHECK(s && strstr(s, "/dev/sdb3\n  changed") && !strchr(s, '\r'));
	free(s);
}

int main(void)
{
	RUN(gpt_element_names_partition_and_disk);
	RUN(mbr_element_names_offset_and_signature);
	RUN(element_written_back_changes_only_the_identity);
	RUN(other_elements_are_not_parsed);
	RUN(mounted_devices_name_a_volume);
	RUN(partitions_have_the_identity_windows_gives_them);
	RUN(guids_parse_and_format_in_windows_order);
	RUN(multisz_drops_what_keep_refuses);
	RUN(report_text_ends_lines_in_crlf_for_windows);
	CHECK_EXIT();
}
