/* SPDX-License-Identifier: MIT */
/*
 * The refusals that keep zone 0 and the guests apart (issue 18), each
 * asserted by its errno; guest-test.sh checks dmesg stays clean after them.
 *   test_isolation       no zone running, nobody owning the bridge:
 *                        addresses beyond the physical width, removal
 *                        unmapping, read-only files, no CAP_SYS_RAWIO,
 *                        ZONE_START over zone 0 RAM, LOAD_IMAGE's rounded
 *                        range, FINISH_REQ without the bridge
 *   test_not_owner       FINISH_REQ, CLEAR_INJECT_IRQ and DEASSERT_IRQ from a
 *                        file that does not own the bridge
 *   cmd_bridge_phys      note the announced bridge page for...
 *   test_still_reserved  ...after unload: it is still reserved
 *   test_lockdown        locks the kernel down (one way!), then checks
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kmod_test.h"

#define KPF_RESERVED 32 /* bit in /proc/kpageflags */

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The CPU's physical address width where the kernel says it (x86's
 * /proc/cpuinfo "address sizes"), else 48 (arm64's PA_BITS in Debian). */
static unsigned phys_bits(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	unsigned bits = 48;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "address sizes : %u bits physical", &bits) ==
		    1)
			break;
	if (f)
		fclose(f);
	return bits;
}

/* An end of System RAM that is not page aligned (x86 under SeaBIOS: base
 * memory ends at 0x9fc00), or 0 if this machine has none. */
static uint64_t unaligned_ram_end(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	uint64_t start, end, found = 0;
	while (!found && f && fgets(line, sizeof(line), f))
		if (line[0] != ' ' && strstr(line, "System RAM") &&
		    sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 &&
		    (end + 1) % page_size() != 0)
			found = end + 1;
	if (f)
		fclose(f);
	return found;
}

/* A zone with one memory region. */
static int start_with_region(int fd, uint32_t id, uint32_t type, uint64_t phys,
			     uint64_t size)
{
	return zone_start_typed(fd, id, type, phys, size, 1);
}

static int declare(int fd, uint64_t zone, uint64_t phys, uint64_t size)
{
	struct hvisor_ram_decl decl = {
		.zone_id = zone, .physical_start = phys, .size = size};
	return (int)dev_ioctl(fd, HVISOR_DECLARE_RAM, &decl);
}

static int load(int fd, uint64_t phys, uint64_t size)
{
	static char image[0x100] = "isolation test image";
	struct hvisor_image_desc img = {.user_buffer = (uintptr_t)image,
					.size = size,
					.load_paddr = phys};
	return (int)dev_ioctl(fd, HVISOR_LOAD_IMAGE, &img);
}

/* Item 1: an address above the physical width would alias a lower one in
 * the page-table entry; item 6's second half (LOAD_IMAGE there). */
static void check_aliases(int fd, uint64_t kram, uint64_t ram, uint64_t size)
{
	unsigned bits[] = {phys_bits(), 52, 54, 56, 62};
	uint64_t pg = page_size();
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		uint64_t high = 1ull << bits[i];
		check(declare(fd, 2, high + kram, pg) == -EINVAL,
		      "DECLARE_RAM at 2^%u + zone 0 RAM: EINVAL", bits[i]);
		check(try_map(fd, high + kram, pg, MAP_SHARED) == -EPERM,
		      "mmap at 2^%u + zone 0 RAM: EPERM", bits[i]);
		check(load(fd, high + ram, 0x100) == -EINVAL,
		      "LOAD_IMAGE at 2^%u + fake RAM: EINVAL", bits[i]);
		check(start_with_region(fd, 3, HVISOR_MEM_TYPE_RAM, high + ram,
					size) == -EINVAL &&
			      !listed(fd, 3, NULL),
		      "ZONE_START with RAM at 2^%u + fake RAM: EINVAL, "
		      "not started",
		      bits[i]);
	}
}

/* Item 5: refused before the hypervisor hears of the zone. */
static void check_zone0_overlap(int fd, uint64_t kram, uint64_t ram,
				uint64_t size)
{
	uint64_t pg = page_size();
	check(start_with_region(fd, 3, HVISOR_MEM_TYPE_RAM, kram, pg) ==
			      -EPERM &&
		      !listed(fd, 3, NULL),
	      "ZONE_START with RAM over zone 0 RAM: EPERM, not started");
	check(start_with_region(fd, 3, HVISOR_MEM_TYPE_IO, kram, pg) ==
			      -EPERM &&
		      !listed(fd, 3, NULL),
	      "ZONE_START with an IO region over zone 0 RAM: EPERM");
	check(start_with_region(fd, 3, HVISOR_MEM_TYPE_RAM, ram + size - pg,
				2 * pg) == -EPERM &&
		      !listed(fd, 3, NULL),
	      "ZONE_START with RAM running past the fake RAM: EPERM");
}

/* Item 6: the check covers the whole pages LOAD_IMAGE maps. */
static void check_rounded_load(int fd)
{
	uint64_t end = unaligned_ram_end();
	if (!end) {
		printf("note: no System RAM ends off a page boundary here; "
		       "LOAD_IMAGE's rounding is checked where one does\n");
		return;
	}
	check(load(fd, end, 0x100) == -EPERM,
	      "LOAD_IMAGE right after System RAM ending at 0x%" PRIx64
	      " (its page is part RAM): EPERM",
	      end);
}

/* Reads *p in a child: 0 if that worked, else the signal that killed it. */
static int touch_in_child(volatile uint8_t *p)
{
	pid_t pid = fork();
	if (pid == 0) {
		(void)*p;
		_exit(0);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* A child that inherited a mapping and touches it when told to. */
struct holder {
	pid_t pid;
	int go;
};

static struct holder hold_in_child(volatile uint8_t *p)
{
	int fds[2];
	struct holder h = {-1, -1};
	if (pipe(fds))
		return h;
	h.pid = fork();
	if (h.pid == 0) {
		char c;
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(3);
		(void)*p;
		_exit(0);
	}
	close(fds[0]);
	h.go = fds[1];
	return h;
}

static int release_holder(struct holder h)
{
	int st = 0;
	if (h.pid < 0 || write(h.go, "x", 1) != 1 ||
	    waitpid(h.pid, &st, 0) != h.pid)
		return -1;
	close(h.go);
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* Item 3: removing a range takes it out of every mapping, children's too;
 * access is checked per page, so a re-declared range works again. */
static void check_removal_unmaps(int fd, uint64_t ram, uint64_t size)
{
	check(declare(fd, 2, ram, size) == 0, "DECLARE_RAM zone 2");
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			  (off_t)ram);
	check(p != MAP_FAILED, "map declared RAM");
	if (p == MAP_FAILED)
		return;
	p[0] = 0x5a;
	check(touch_in_child(p) == 0, "a child reads the mapping");
	struct holder h = hold_in_child(p);
	check(declare(fd, 2, 0, 0) == 0, "DECLARE_RAM size 0 forgets zone 2");
	check(touch_in_child(p) == SIGBUS,
	      "mapping made before the removal: SIGBUS");
	check(release_holder(h) == SIGBUS,
	      "child holding it from before the removal: SIGBUS");
	check(declare(fd, 2, ram, size) == 0 && touch_in_child(p) == 0 &&
		      p[0] == 0x5a,
	      "declared again: the same mapping reads the same page");
	check(declare(fd, 2, 0, 0) == 0, "forget zone 2 again");
	munmap(p, size);

	check(zone_start(fd, ZONE_ID, ram, size, 2) == 0, "ZONE_START 1");
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, (off_t)ram);
	check(p != MAP_FAILED && touch_in_child(p) == 0, "map zone 1 RAM");
	uint64_t id = ZONE_ID;
	check(dev_ioctl(fd, HVISOR_ZONE_SHUTDOWN, (void *)id) == 0,
	      "ZONE_SHUTDOWN 1");
	if (p != MAP_FAILED) {
		check(touch_in_child(p) == SIGBUS,
		      "zone 1 RAM mapped before its shutdown: SIGBUS");
		munmap(p, size);
	}
}

/* True if x86 PAT's debugfs list holds `type` for [start, end). */
static bool memtype_listed(const char *type, uint64_t start, uint64_t end)
{
	FILE *f = fopen("/sys/kernel/debug/x86/pat_memtype_list", "r");
	char line[256], wide[64], narrow[64];
	bool found = false;
	snprintf(wide, sizeof(wide), "0x%016" PRIx64 "-0x%016" PRIx64, start,
		 end);
	snprintf(narrow, sizeof(narrow), "0x%" PRIx64 "-0x%" PRIx64, start,
		 end);
	while (!found && f && fgets(line, sizeof(line), f))
		found = strstr(line, type) &&
			(strstr(line, wide) || strstr(line, narrow));
	if (f)
		fclose(f);
	return found;
}

/* x86 PAT: guest RAM outside zone 0's RAM (here: unbacked addresses below
 * the physical width) is mapped write-back while declared, not UC-. */
static void check_memtype(int fd)
{
	if (access("/sys/kernel/debug/x86/pat_memtype_list", R_OK) != 0) {
		printf("note: no x86 PAT here: memory types not checked\n");
		return;
	}
	uint64_t base = 1ull << (phys_bits() - 2), size = 2ull << 20;
	check(declare(fd, 5, base, size) == 0,
	      "DECLARE_RAM 0x%" PRIx64 " (no RAM there)", base);
	uint8_t *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, (off_t)base);
	check(p != MAP_FAILED && touch_in_child(p) == 0, "map and read it");
	check(memtype_listed("write-back", base, base + size),
	      "PAT holds write-back for it while declared");
	if (p != MAP_FAILED)
		munmap(p, size);
	check(declare(fd, 5, 0, 0) == 0 &&
		      !memtype_listed("write-back", base, base + size),
	      "forgetting it releases the write-back reservation");
}

/* Item 4, first half: a read-only file changes nothing. */
static void check_read_only(uint64_t ram, uint64_t size)
{
	int rw = open_dev();
	int ro = open("/dev/hvisor", O_RDONLY | O_CLOEXEC);
	check(ro >= 0, "open /dev/hvisor read-only");
	if (ro < 0) {
		close(rw);
		return;
	}
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t id = ZONE_ID, version = 0;
	check(dev_ioctl(ro, HVISOR_INIT_VIRTIO, NULL) == -EBADF,
	      "read-only: INIT_VIRTIO EBADF");
	check(dev_ioctl(ro, HVISOR_FINISH_REQ, NULL) == -EBADF,
	      "read-only: FINISH_REQ EBADF");
	check(zone_start(ro, ZONE_ID, ram, size, 2) == -EBADF &&
		      !listed(rw, ZONE_ID, NULL),
	      "read-only: ZONE_START EBADF, not started");
	check(dev_ioctl(ro, HVISOR_ZONE_SHUTDOWN, (void *)id) == -EBADF,
	      "read-only: ZONE_SHUTDOWN EBADF");
	check(dev_ioctl(ro, HVISOR_SET_EVENTFD, (void *)(long)efd) == -EBADF,
	      "read-only: SET_EVENTFD EBADF");
	check(load(ro, ram + 0x1000, 0x100) == -EBADF,
	      "read-only: LOAD_IMAGE EBADF");
	check(declare(ro, 2, ram, size) == -EBADF,
	      "read-only: DECLARE_RAM EBADF");
	check(dev_ioctl(ro, HVISOR_SET_BOOT_MODE, NULL) == -EBADF,
	      "read-only: SET_BOOT_MODE EBADF");
	check(dev_ioctl(ro, HVISOR_CONFIG_CHECK, &version) == 0 &&
		      version == HVISOR_CONFIG_VERSION,
	      "read-only: CONFIG_CHECK works");
	check(listed(ro, 0, NULL), "read-only: ZONE_LIST works");
	check(declare(rw, 2, ram, size) == 0, "DECLARE_RAM (read-write)");
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, ro,
		       (off_t)ram);
	check(p == MAP_FAILED && errno == EACCES,
	      "read-only: writable mapping EACCES");
	check(try_map(ro, ram, size, MAP_SHARED) == -EACCES,
	      "read-only: shared read-write mapping EACCES");
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, ro, (off_t)ram);
	check(p != MAP_FAILED && touch_in_child(p) == 0,
	      "read-only: read-only mapping of guest RAM (%s)",
	      p == MAP_FAILED ? strerror(errno) : "reads");
	if (p != MAP_FAILED)
		munmap(p, size);
	check(try_map(ro, ram, size, MAP_PRIVATE) == -EINVAL,
	      "read-only: private mapping EINVAL");
	check(declare(rw, 2, 0, 0) == 0, "forget zone 2");
	close(efd);
	close(ro);
	close(rw);
}

int drop_rawio(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	unsigned i = CAP_TO_INDEX(CAP_SYS_RAWIO);
	uint32_t bit = CAP_TO_MASK(CAP_SYS_RAWIO);
	data[i].effective &= ~bit;
	data[i].permitted &= ~bit;
	data[i].inheritable &= ~bit;
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* Item 4, second half: physical memory needs CAP_SYS_RAWIO. */
static void check_no_rawio(uint64_t ram, uint64_t size)
{
	int rw = open_dev();
	check(declare(rw, 2, ram, size) == 0, "DECLARE_RAM (with RAWIO)");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		failures = 0;
		check(drop_rawio() == 0, "drop CAP_SYS_RAWIO");
		int fd = open_dev();
		check(load(fd, ram + 0x1000, 0x100) == -EPERM,
		      "no CAP_SYS_RAWIO: LOAD_IMAGE EPERM");
		check(declare(fd, 4, ram, size) == -EPERM,
		      "no CAP_SYS_RAWIO: DECLARE_RAM EPERM");
		check(zone_start(fd, ZONE_ID, ram, size, 2) == -EPERM &&
			      !listed(fd, ZONE_ID, NULL),
		      "no CAP_SYS_RAWIO: ZONE_START EPERM, not started");
		check(try_map(fd, ram, size, MAP_SHARED) == -EPERM,
		      "no CAP_SYS_RAWIO: mmap of declared RAM EPERM");
		check(listed(fd, 0, NULL), "no CAP_SYS_RAWIO: ZONE_LIST works");
		close(fd);
		_exit(failures ? 1 : 0);
	}
	int st = 0;
	check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 0,
	      "the checks without CAP_SYS_RAWIO passed");
	check(try_map(rw, ram, size, MAP_SHARED) == 0,
	      "with CAP_SYS_RAWIO the same mapping works");
	check(declare(rw, 2, 0, 0) == 0, "forget zone 2");
	close(rw);
}

void test_not_owner(bool someone_owns)
{
	int fd = open_dev();
	long want = someone_owns ? -EPERM : -ENODEV;
	check(dev_ioctl(fd, HVISOR_FINISH_REQ, NULL) == want,
	      "FINISH_REQ from a file not owning the bridge: %s",
	      someone_owns ? "EPERM" : "ENODEV (nobody owns it)");
	/* Dropping a guest's interrupt line is the owner's too (refused
	 * before the module looks at which LoongArch generation runs). */
	struct hvisor_irq_line line = {0};
	check(dev_ioctl(fd, HVISOR_CLEAR_INJECT_IRQ, NULL) == want,
	      "CLEAR_INJECT_IRQ from a file not owning the bridge");
	check(dev_ioctl(fd, HVISOR_DEASSERT_IRQ, &line) == want,
	      "DEASSERT_IRQ from a file not owning the bridge");
	close(fd);
}

void test_isolation(void)
{
	int fd = open_dev();
	uint64_t ram, size, kram = zone0_ram_page();
	fake_ram(&ram, &size);
	check(kram != 0, "zone 0 RAM page 0x%" PRIx64, kram);
	check_aliases(fd, kram, ram, size);
	check_zone0_overlap(fd, kram, ram, size);
	check_rounded_load(fd);
	check_removal_unmaps(fd, ram, size);
	check_memtype(fd);
	check_read_only(ram, size);
	check_no_rawio(ram, size);
	test_not_owner(false);
	close(fd);
}

void cmd_bridge_phys(const char *out)
{
	char text[32] = "";
	FILE *f = fopen(DEBUGFS "bridge", "r");
	check(f && fgets(text, sizeof(text), f) && strncmp(text, "0x", 2) == 0,
	      "the fake hypervisor knows a bridge page: %s", text);
	if (f)
		fclose(f);
	FILE *o = fopen(out, "w");
	if (!o || fputs(text, o) < 0 || fclose(o)) {
		perror(out);
		exit(1);
	}
}

/* Item 2: the announced page outlives the module. */
void test_still_reserved(const char *phys_text)
{
	uint64_t phys = strtoull(phys_text, NULL, 0), flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);
	off_t at = (off_t)(phys / page_size() * sizeof(flags));
	check(phys && fd >= 0 &&
		      pread(fd, &flags, sizeof(flags), at) == sizeof(flags),
	      "read /proc/kpageflags for 0x%" PRIx64, phys);
	check(flags & (1ull << KPF_RESERVED),
	      "bridge page 0x%" PRIx64 " still reserved after unload", phys);
	if (fd >= 0)
		close(fd);
}

/* Item 4, lockdown: what /dev/mem refuses, we refuse. One way: run last. */
void test_lockdown(void)
{
	int fd = open_dev();
	uint64_t ram, size, version = 0;
	fake_ram(&ram, &size);
	check(declare(fd, 2, ram, size) == 0 &&
		      try_map(fd, ram, size, MAP_SHARED) == 0,
	      "before lockdown: declared RAM maps");
	int lk = open("/sys/kernel/security/lockdown", O_WRONLY);
	check(lk >= 0 && write(lk, "integrity", 9) == 9,
	      "lock the kernel down (integrity)");
	if (lk >= 0)
		close(lk);
	check(try_map(fd, ram, size, MAP_SHARED) == -EPERM,
	      "locked down: mmap of declared RAM EPERM");
	check(declare(fd, 4, ram, size) == -EPERM,
	      "locked down: DECLARE_RAM EPERM");
	check(load(fd, ram + 0x1000, 0x100) == -EPERM,
	      "locked down: LOAD_IMAGE EPERM");
	check(zone_start(fd, ZONE_ID, ram, size, 2) == -EPERM &&
		      !listed(fd, ZONE_ID, NULL),
	      "locked down: ZONE_START EPERM, not started");
	check(dev_ioctl(fd, HVISOR_CONFIG_CHECK, &version) == 0,
	      "locked down: CONFIG_CHECK works");
	close(fd);
}
