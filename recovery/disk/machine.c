/* The machine an image was captured on: firmware and PCI controllers. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "muletto/disk/machine.h"
#include "muletto/core/util.h"

#define PCI_DEVICES "/sys/bus/pci/devices"

static void pci_describe(const char *dev, char *out, size_t n)
{
	char path[512], vendor[32] = "", device[32] = "", link[512];
	const char *driver = "no driver";
	ssize_t k;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vendor", dev);
	read_line_file(path, vendor, sizeof(vendor));
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/device", dev);
	read_line_file(path, device, sizeof(device));
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", dev);
	k = readlink(path, link, sizeof(link) - 1);
	if (k > 0) {
		link[k] = 0;
		driver = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	}
	snprintf(out, n, "%.40s [%.8s:%.8s] %.60s", dev, vendor[0] == '0' && vendor[1] == 'x' ? vendor + 2
				       : vendor, device[0] == '0' && device[1] == 'x' ? device + 2 : device,
		 driver);
}

/* The network cards that are hardware (a device behind them), with their MACs. */
static int machine_nics(struct manifest *m)
{
	char path[512], link[512];
	struct dirent *de;
	DIR *d = opendir("/sys/class/net");
	ssize_t k;
	int r = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && r == 0) {
		struct manifest_nic *n;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%.200s/device", de->d_name);
		if (access(path, F_OK) < 0)
			continue; /* lo, bridges, taps, bonds */
		if (!(n = manifest_add_nic(m))) {
			r = -ENOMEM;
			break;
		}
		str_copy(n->name, sizeof(n->name), de->d_name);
		snprintf(path, sizeof(path), "/sys/class/net/%.200s/address", de->d_name);
		read_line_file(path, n->mac, sizeof(n->mac));
		snprintf(path, sizeof(path), "/sys/class/net/%.200s/device/driver", de->d_name);
		k = readlink(path, link, sizeof(link) - 1);
		if (k > 0) {
			link[k] = 0;
			str_copy(n->driver, sizeof(n->driver),
				 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
		}
	}
	closedir(d);
	return r;
}

int machine_is_uefi(void)
{
	return access("/sys/firmware/efi", F_OK) == 0;
}

int machine_describe(struct manifest *m)
{
	char path[512], cls[32], desc[MANIFEST_STR];
	struct dirent *de;
	DIR *d;
	int r = 0;

	str_copy(m->firmware, sizeof(m->firmware),
		 machine_is_uefi() ? "uefi" : "bios");
	if (gethostname(m->hostname, sizeof(m->hostname) - 1) < 0)
		m->hostname[0] = 0;
	m->cpus = cpu_count();
	m->memory = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	r = machine_nics(m);
	if (r < 0)
		return r;
	d = opendir(PCI_DEVICES);
	if (!d)
		return 0; /* no PCI bus (a container, some VMs): nothing to say */
	while ((de = readdir(d)) && r == 0) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/class", de->d_name);
		if (read_line_file(path, cls, sizeof(cls)) < 0 || strncmp(cls, "0x0", 3))
			continue;
		/* class 0x01xxxx: mass storage, 0x02xxxx: network */
		if (cls[3] != '1' && cls[3] != '2')
			continue;
		pci_describe(de->d_name, desc, sizeof(desc));
		r = manifest_add_controller(m, cls[3] == '2', desc);
	}
	closedir(d);
	return r;
}

/* Whether every controller of a is in b. */
static int machine_has_all(char (*a)[MANIFEST_STR], size_t na, char (*b)[MANIFEST_STR], size_t nb)
{
	size_t i, k;

	for (i = 0; i < na; i++) {
		for (k = 0; k < nb && strcmp(a[i], b[k]); k++)
			;
		if (k == nb)
			return 0;
	}
	return 1;
}

/* Whether every network card m recorded is here, by MAC: a configuration
 * bound to a card that is gone needs fixup's mapping. */
static int machine_has_nics(const struct manifest *m, const struct manifest *here)
{
	size_t i, k;

	for (i = 0; i < m->nnics; i++) {
		for (k = 0; k < here->nnics && strcasecmp(m->nics[i].mac, here->nics[k].mac); k++)
			;
		if (k == here->nnics)
			return 0;
	}
	return 1;
}

static void machine_why(char *why, size_t n, const char *text)
{
	size_t len = strlen(why);

	if (len + 3 < n)
		snprintf(why + len, n - len, "%s%s", len ? "; " : "", text);
}

int machine_differs(const struct manifest *m, char *why, size_t n)
{
	struct manifest *here = manifest_new();
	int r;

	why[0] = 0;
	if (!here)
		return -ENOMEM;
	if ((r = machine_describe(here)) < 0) {
		manifest_free(here);
		return r;
	}
	if (!m->firmware[0] || !strcmp(m->firmware, "unknown"))
		machine_why(why, n, "machine not recorded");
	else if (strcmp(m->firmware, here->firmware)) {
		char fw[2 * MANIFEST_STR + 16];
		snprintf(fw, sizeof(fw), "firmware %s -> %s", m->firmware, here->firmware);
		machine_why(why, n, fw);
	}
	if (m->firmware[0] &&
	    (!machine_has_all(m->storage, m->nstorage, here->storage, here->nstorage) ||
	     !machine_has_all(here->storage, here->nstorage, m->storage, m->nstorage)))
		machine_why(why, n, "storage controllers");
	if (!machine_has_nics(m, here))
		machine_why(why, n, "network cards");
	manifest_free(here);
	return 0;
}
