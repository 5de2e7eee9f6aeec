/* Registry values of Windows, read and written offline (see win.h): lists of
 * strings and BCD device elements. Pure functions on bytes from a disk, so
 * every length is checked. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "muletto/core/util.h"
#include "muletto/fixup/win.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

size_t win_multisz_filter(const uint8_t *in, size_t len, uint8_t *out,
			  int (*keep)(const char *name, void *ctx), void *ctx, char *dropped,
			  size_t dropped_size)
{
	size_t i = 0, o = 0, start, k, dl = 0;
	char name[256];

	if (dropped_size)
		dropped[0] = '\0';
	len &= ~(size_t)1;
	while (i + 1 < len && (in[i] || in[i + 1])) {
		start = i;
		for (k = 0; i + 1 < len && (in[i] || in[i + 1]); i += 2)
			if (k + 1 < sizeof(name))
				name[k++] = in[i + 1] || in[i] > 0x7e ? '?' : (char)in[i];
		name[k] = '\0';
		if (i + 1 < len)
			i += 2; /* the string's NUL */
		if (keep(name, ctx)) {
			memmove(out + o, in + start, i - start);
			o += i - start;
			if (i - start >= 2 && (in[i - 1] || in[i - 2])) { /* cut short: end it */
				out[o++] = 0;
				out[o++] = 0;
			}
		} else if (dl + 1 < dropped_size) {
			dl += (size_t)snprintf(dropped + dl, dropped_size - dl, "%s%s",
					       dl ? ", " : "", name);
			dl = MIN(dl, dropped_size - 1);
		}
	}
	if (o + 2 <= len) { /* the empty string that ends the list */
		out[o++] = 0;
		out[o++] = 0;
	}
	return o;
}

int win_guid_parse(const char *s, uint8_t out[16])
{
	/* where each byte's two digits are in the text, in stored order */
	static const int at[16] = { 6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26, 28, 30, 32, 34 };
	uint8_t b[16];
	unsigned int v;
	size_t i;

	if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		char hex[3] = { s[at[i]], s[at[i] + 1], 0 };

		if (!strchr("0123456789abcdefABCDEF", hex[0]) || !hex[0] ||
		    !strchr("0123456789abcdefABCDEF", hex[1]) || !hex[1] ||
		    sscanf(hex, "%2x", &v) != 1)
			return -EINVAL;
		b[i] = (uint8_t)v;
	}
	memcpy(out, b, 16);
	return 0;
}

void win_guid_format(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
}

int win_bcd_device_parse(const uint8_t *buf, size_t len, struct win_bcd_device *ret)
{
	static const uint8_t zero[16];
	struct win_bcd_device d = { 0 };
	uint32_t style;

	if (len < 0x20)
		return -EINVAL;
	if (memcmp(buf, zero, 16) || le32(buf + 0x10) != 6)
		return 0; /* options, or not a partition: boot device, ramdisk, locate */
	if (len != WIN_BCD_DEVICE_LEN || le32(buf + 0x18) != len - 0x10)
		return len == WIN_BCD_DEVICE_LEN ? -EINVAL : 0; /* a partition with more */
	style = le32(buf + 0x34);
	if (style > 1)
		return -EINVAL;
	d.gpt = style == 0;
	if (d.gpt) {
		win_guid_format(buf + 0x20, d.part_guid);
		win_guid_format(buf + 0x38, d.disk_guid);
	} else {
		d.offset = le32(buf + 0x20) | (uint64_t)le32(buf + 0x24) << 32;
		d.signature = le32(buf + 0x38);
	}
	*ret = d;
	return 1;
}

void win_bcd_device_write(uint8_t *buf, const struct win_bcd_device *d)
{
	memset(buf + 0x20, 0, 16);
	memset(buf + 0x38, 0, 16);
	put_le32(buf + 0x34, d->gpt ? 0 : 1);
	if (d->gpt) {
		win_guid_parse(d->part_guid, buf + 0x20);
		win_guid_parse(d->disk_guid, buf + 0x38);
	} else {
		put_le32(buf + 0x20, (uint32_t)d->offset);
		put_le32(buf + 0x24, (uint32_t)(d->offset >> 32));
		put_le32(buf + 0x38, d->signature);
	}
}

int win_mounted_parse(const uint8_t *buf, size_t len, struct win_bcd_device *ret)
{
	struct win_bcd_device d = { 0 };

	if (len == 24 && !memcmp(buf, "DMIO:ID:", 8)) {
		d.gpt = 1;
		win_guid_format(buf + 8, d.part_guid);
	} else if (len == 12) {
		d.signature = le32(buf);
		d.offset = le32(buf + 4) | (uint64_t)le32(buf + 8) << 32;
	} else {
		return 0;
	}
	*ret = d;
	return 1;
}

size_t win_mounted_make(const struct win_bcd_device *d, uint8_t out[24])
{
	if (d->gpt) {
		memcpy(out, "DMIO:ID:", 8);
		win_guid_parse(d->part_guid, out + 8);
		return 24;
	}
	put_le32(out, d->signature);
	put_le32(out + 4, (uint32_t)d->offset);
	put_le32(out + 8, (uint32_t)(d->offset >> 32));
	return 12;
}
