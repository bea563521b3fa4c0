// SPDX-License-Identifier: MIT
/*
 * Test build only (HVISOR_FAKE=1): an in-kernel fake hypervisor, so the
 * module, the daemon and their protocol can be run on an ordinary kernel
 * (CI boots one under QEMU). It answers the hypercalls the module makes and
 * plays the hypervisor's side of the bridge, driven through debugfs
 * (/sys/kernel/debug/hvisor/):
 *
 *   ram      read: "PHYS SIZE", the fake guest RAM (a reserved kernel
 *            buffer); zones whose RAM region is inside it can be mapped
 *            and loaded into
 *   mmio     write one trapped access, as a vCPU would make it:
 *              "r CPU ZONE ADDR SIZE"        read, waits for completion
 *              "w CPU ZONE ADDR SIZE VALUE"  write, waits for completion
 *              "n CPU ZONE ADDR SIZE VALUE"  QUEUE_NOTIFY write, no wait
 *            (numbers in hex with 0x, or decimal); the write fails with
 *            ETIMEDOUT if the daemon does not complete it within 10 s.
 *            read: the result of this open file's last access, "0x..."
 *   irqs     read: one "ZONE IRQ" line per irq injected by FINISH_REQ (the
 *            last 256); any write clears the list
 *   wakeups  read: how many wake-up interrupts were raised
 *   bridge   read: "PHYS", the bridge page INIT_VIRTIO announced, or
 *            "none" (tests check it stays reserved after unload)
 *   lines    read: the LoongArch line state and the newer requests, one
 *            "key value..." per line: clear_inject N, deassert N, rearm N,
 *            boot ZONE ENABLED MBI (or "boot none"), then "line ZONE IRQ"
 *            for every guest line that is up
 *
 * Module parameters choose which hypervisor it plays: fake_loongarch=1 a
 * LoongArch one (guest lines stay up until dropped; with
 * fake_config_version=5 the hvisor v0.4 generation: no wake-up interrupt,
 * hypercall 20 drops every line; otherwise the line generation: hypercall
 * 11 drops one, and zone 0's wake-up line (0, 4) must be dropped before the
 * next wake-up can be raised); fake_ecam_base is what GET_ECAM_BASE says.
 *
 * Zones: zone 0 "root-linux" always exists; START_ZONE adds one (its
 * zone_config_t is checked for size only), SHUTDOWN_ZONE removes it.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvisor_kmod.h"
#include "hypercall.h"

#define FAKE_RAM_SIZE  (2ul << 20)
#define FAKE_MAX_ZONES 8
#define FAKE_IRQ_LOG   256
#define FAKE_WAIT_MS   10000
#define RING_MASK      (HVISOR_MAX_REQ - 1)

struct injected {
	u32 zone, irq;
};

static bool fake_loongarch;
module_param(fake_loongarch, bool, 0444);
MODULE_PARM_DESC(fake_loongarch, "test build: play a LoongArch hypervisor");
static uint fake_config_version = HVISOR_CONFIG_VERSION;
module_param(fake_config_version, uint, 0444);
MODULE_PARM_DESC(fake_config_version, "test build: CONFIG_CHECK answer");
static ulong fake_ecam_base;
module_param(fake_ecam_base, ulong, 0444);
MODULE_PARM_DESC(fake_ecam_base, "test build: GET_ECAM_BASE answer");

#define FAKE_MAX_LINES 16

static struct {
	struct mutex lock; /* everything below but `wakeups` */
	struct hvisor_bridge *bridge;
	struct page *ram;
	u64 ram_phys;
	struct hvisor_zone_info zones[FAKE_MAX_ZONES];
	bool zone_used[FAKE_MAX_ZONES];
	struct injected irqs[FAKE_IRQ_LOG];
	unsigned int irq_count; /* total since the last clear */
	atomic_t wakeups;
	struct irq_work wake_work;
	/* LoongArch: guest lines that are up, zone 0's wake-up line */
	struct injected lines[FAKE_MAX_LINES];
	unsigned int line_count;
	atomic_t root_line;
	u64 clear_injects, deasserts;
	atomic_t rearms;
	bool boot_mode_set;
	struct hvisor_boot_mode boot_mode;
	struct dentry *dir;
} fake = {
	.lock = __MUTEX_INITIALIZER(fake.lock),
};

bool hvisor_fake_loongarch(void)
{
	return fake_loongarch;
}

static bool fake_v04(void)
{
	return fake_loongarch && fake_config_version == 0x05;
}

/* An injection on LoongArch: the line stays up. v0.4 writes the zone's
 * HWI field, so the new line replaces that zone's others. */
static void line_raise(u32 zone, u32 irq)
{
	unsigned int i, n = 0;

	for (i = 0; i < fake.line_count; i++) {
		struct injected l = fake.lines[i];

		if ((l.zone == zone && l.irq == irq) ||
		    (fake_v04() && l.zone == zone))
			continue;
		fake.lines[n++] = l;
	}
	fake.line_count = n;
	if (n < FAKE_MAX_LINES)
		fake.lines[fake.line_count++] = (struct injected){zone, irq};
}

static void line_drop(u32 zone, u32 irq)
{
	unsigned int i, n = 0;

	for (i = 0; i < fake.line_count; i++)
		if (fake.lines[i].zone != zone || fake.lines[i].irq != irq)
			fake.lines[n++] = fake.lines[i];
	fake.line_count = n;
}

bool hvisor_fake_owns(u64 start, u64 size)
{
	return fake.ram && start >= fake.ram_phys && start + size >= start &&
	       start + size <= fake.ram_phys + FAKE_RAM_SIZE;
}

/* The hypervisor's half of res_list: drain it, "inject" each irq. */
static long fake_finish_req(void)
{
	struct hvisor_bridge *b = fake.bridge;
	u32 front, rear, n;

	if (!b)
		return -ENODEV;
	/* Indices live in a page user space can scribble on: mask them. */
	front = READ_ONCE(b->res_front) & RING_MASK;
	rear = READ_ONCE(b->res_rear) & RING_MASK;
	smp_rmb(); /* entries were written before res_rear */
	for (n = 0; front != rear && n < HVISOR_MAX_REQ; n++) {
		struct injected *slot =
			&fake.irqs[fake.irq_count % FAKE_IRQ_LOG];

		slot->zone = READ_ONCE(b->res_list[front].target_zone);
		slot->irq = READ_ONCE(b->res_list[front].irq_id);
		fake.irq_count++;
		if (fake_loongarch)
			line_raise(slot->zone, slot->irq);
		front = HVISOR_RING_NEXT(front);
	}
	smp_mb(); /* entries read before the slots are handed back */
	WRITE_ONCE(b->res_front, front);
	return 0;
}

static long fake_start_zone(unsigned long pa, unsigned long size)
{
	const struct hvisor_zone_config *cfg = phys_to_virt(pa);
	size_t want = HVISOR_ZONE_CONFIG_SIZE(fake_config_version);
	int i, free_slot = -1;

	/* As hvisor v0.4: exactly the size of the layout it speaks. */
	if (size != (want ? want : sizeof(*cfg)))
		return -EINVAL;
	if (cfg->zone_id == 0)
		return -EEXIST;
	for (i = 0; i < FAKE_MAX_ZONES; i++) {
		if (fake.zone_used[i] && fake.zones[i].zone_id == cfg->zone_id)
			return -EEXIST;
		if (!fake.zone_used[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	memset(&fake.zones[free_slot], 0, sizeof(fake.zones[0]));
	fake.zones[free_slot].zone_id = cfg->zone_id;
	fake.zones[free_slot].cpus = cfg->cpus;
	memcpy(fake.zones[free_slot].name, cfg->name, HVISOR_NAME_MAXLEN - 1);
	fake.zone_used[free_slot] = true;
	return 0;
}

static long fake_shutdown_zone(unsigned long zone_id)
{
	int i;

	if (zone_id == 0)
		return -EPERM;
	for (i = 0; i < FAKE_MAX_ZONES; i++) {
		if (fake.zone_used[i] && fake.zones[i].zone_id == zone_id) {
			fake.zone_used[i] = false;
			return 0;
		}
	}
	return -ENOENT;
}

static long fake_zone_list(unsigned long pa, unsigned long cnt)
{
	struct hvisor_zone_info *out = phys_to_virt(pa);
	long n = 0;
	int i;

	if (cnt == 0)
		return 0;
	memset(&out[0], 0, sizeof(out[0]));
	strscpy(out[0].name, "root-linux", sizeof(out[0].name));
	out[0].cpus = 1;
	n = 1;
	for (i = 0; i < FAKE_MAX_ZONES && n < cnt; i++)
		if (fake.zone_used[i])
			out[n++] = fake.zones[i];
	return n;
}

/* The newer requests (lines.c); the caller holds fake.lock. */
static long fake_call_lines(unsigned long code, unsigned long arg0,
			    unsigned long arg1)
{
	switch (code) {
	case HVISOR_HC_GET_ECAM_BASE:
		*(u64 *)phys_to_virt(arg0) = fake_ecam_base;
		return 0;
	case HVISOR_HC_SET_BOOT_MODE:
		if (arg1 != sizeof(fake.boot_mode))
			return -EINVAL;
		memcpy(&fake.boot_mode, phys_to_virt(arg0), arg1);
		fake.boot_mode_set = true;
		return 0;
	case HVISOR_HC_CLEAR_INJECT_IRQ:
		if (!fake_v04())
			return -ENOSYS;
		fake.line_count = 0; /* every guest line, never zone 0's */
		fake.clear_injects++;
		return 0;
	case HVISOR_HC_DEASSERT_IRQ:
		if (!fake_loongarch || fake_v04())
			return -ENOSYS;
		line_drop(arg0, arg1);
		fake.deasserts++;
		return 0;
	default:
		return -ENOSYS;
	}
}

long hvisor_fake_call(unsigned long code, unsigned long arg0,
		      unsigned long arg1)
{
	long ret;

	/* The wake-up line's re-arm comes from the wake-up handler, in hard
	 * irq context: no mutex there. */
	if (code == HVISOR_HC_DEASSERT_IRQ && arg0 == 0 && arg1 == 4 &&
	    fake_loongarch && !fake_v04()) {
		atomic_set(&fake.root_line, 0);
		atomic_inc(&fake.rearms);
		return 0;
	}
	mutex_lock(&fake.lock);
	switch (code) {
	case HVISOR_HC_INIT_VIRTIO:
		fake.bridge = phys_to_virt(arg0);
		ret = 0;
		break;
	case HVISOR_HC_FINISH_REQ:
		ret = fake_finish_req();
		break;
	case HVISOR_HC_START_ZONE:
		ret = fake_start_zone(arg0, arg1);
		break;
	case HVISOR_HC_SHUTDOWN_ZONE:
		ret = fake_shutdown_zone(arg0);
		break;
	case HVISOR_HC_ZONE_LIST:
		ret = fake_zone_list(arg0, arg1);
		break;
	case HVISOR_HC_CONFIG_CHECK:
		*(u64 *)phys_to_virt(arg0) = fake_config_version;
		ret = 0;
		break;
	default:
		ret = fake_call_lines(code, arg0, arg1);
		break;
	}
	mutex_unlock(&fake.lock);
	return ret;
}

static void fake_wake(struct irq_work *work)
{
	atomic_inc(&fake.wakeups);
	hvisor_wake_daemon();
	hvisor_wakeup_rearm(); /* as irq.c's handler */
}

/* Raises the wake-up interrupt as the generation played does: never on
 * v0.4 LoongArch; on the line generation only while zone 0's line is down
 * (a line that is still up gives no new interrupt). */
static void fake_raise_wakeup(void)
{
	if (fake_v04())
		return;
	if (fake_loongarch && atomic_xchg(&fake.root_line, 1))
		return;
	irq_work_queue(&fake.wake_work);
}

/* The fake's wake-up "interrupt" is an irq_work: the handler then runs in
 * hard-irq context as the real one does. */
int hvisor_wakeup_irq_init(void)
{
	init_irq_work(&fake.wake_work, fake_wake);
	return 0;
}

void hvisor_wakeup_irq_exit(void)
{
	irq_work_sync(&fake.wake_work);
}

struct mmio_file {
	char result[32];
};

struct mmio_access {
	char op; /* r, w, n */
	u32 cpu, zone;
	u64 addr, size, value;
};

/* Pushes one request as the hypervisor does; returns the cfg_flags value
 * seen before the push (completion = it changes) or -errno. */
static long push_request(const struct mmio_access *a, u64 *flag_before)
{
	struct hvisor_bridge *b;
	struct hvisor_device_req *req;
	u32 front, rear;
	long err = 0;

	mutex_lock(&fake.lock);
	b = fake.bridge;
	if (!b) {
		err = -ENODEV;
		goto out;
	}
	rear = READ_ONCE(b->req_rear) & RING_MASK;
	front = READ_ONCE(b->req_front) & RING_MASK;
	if (HVISOR_RING_NEXT(rear) == front) {
		err = -EBUSY; /* a vCPU would spin; a test should not */
		goto out;
	}
	*flag_before = READ_ONCE(b->cfg_flags[a->cpu]);
	req = &b->req_list[rear];
	req->src_cpu = a->cpu;
	req->address = a->addr;
	req->size = a->size;
	req->value = a->op == 'r' ? 0 : a->value;
	req->src_zone = a->zone;
	req->is_write = a->op != 'r';
	req->need_interrupt = a->op == 'n';
	req->padding = 0;
	smp_wmb(); /* the entry before the index that publishes it */
	WRITE_ONCE(b->req_rear, HVISOR_RING_NEXT(rear));
	smp_mb(); /* publish, then look at need_wakeup: pairs with the
		     daemon's barrier between setting it and re-checking */
	if (READ_ONCE(b->need_wakeup))
		fake_raise_wakeup();
out:
	mutex_unlock(&fake.lock);
	return err;
}

/* The trapped vCPU's wait: poll cfg_flags like the hypervisor spins. */
static long wait_completion(u32 cpu, u64 flag_before, u64 *value)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(FAKE_WAIT_MS);
	struct hvisor_bridge *b = fake.bridge;

	for (;;) {
		if (READ_ONCE(b->cfg_flags[cpu]) != flag_before) {
			smp_rmb(); /* the value was written before the flag */
			*value = READ_ONCE(b->cfg_values[cpu]);
			return 0;
		}
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		if (signal_pending(current))
			return -EINTR;
		usleep_range(50, 200);
	}
}

static int mmio_open(struct inode *inode, struct file *file)
{
	struct mmio_file *mf = kzalloc(sizeof(*mf), GFP_KERNEL);

	if (!mf)
		return -ENOMEM;
	strscpy(mf->result, "none\n", sizeof(mf->result));
	file->private_data = mf;
	return 0;
}

static int mmio_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t mmio_write(struct file *file, const char __user *ubuf,
			  size_t len, loff_t *ppos)
{
	struct mmio_file *mf = file->private_data;
	struct mmio_access a = {0};
	char buf[128];
	u64 before, value = 0;
	long err;
	int n;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	n = sscanf(buf, "%c %u %u %lli %llu %lli", &a.op, &a.cpu, &a.zone,
		   &a.addr, &a.size, &a.value);
	if (n < 5 || (a.op != 'r' && a.op != 'w' && a.op != 'n') ||
	    (a.op != 'r' && n < 6))
		return -EINVAL;
	if (a.cpu >= HVISOR_MAX_CPUS ||
	    (a.size != 1 && a.size != 2 && a.size != 4 && a.size != 8))
		return -EINVAL;
	err = push_request(&a, &before);
	if (err)
		return err;
	if (a.op != 'n') {
		err = wait_completion(a.cpu, before, &value);
		if (err) {
			strscpy(mf->result, "timeout\n", sizeof(mf->result));
			return err;
		}
	}
	snprintf(mf->result, sizeof(mf->result), "0x%llx\n", value);
	return len;
}

static ssize_t mmio_read(struct file *file, char __user *ubuf, size_t len,
			 loff_t *ppos)
{
	struct mmio_file *mf = file->private_data;

	return simple_read_from_buffer(ubuf, len, ppos, mf->result,
				       strlen(mf->result));
}

static const struct file_operations mmio_fops = {
	.owner = THIS_MODULE,
	.open = mmio_open,
	.release = mmio_release,
	.write = mmio_write,
	.read = mmio_read,
	.llseek = default_llseek,
};

static ssize_t irqs_read(struct file *file, char __user *ubuf, size_t len,
			 loff_t *ppos)
{
	unsigned int i, first, count;
	size_t cap = FAKE_IRQ_LOG * 24 + 1, used = 0;
	char *text = kmalloc(cap, GFP_KERNEL);
	ssize_t ret;

	if (!text)
		return -ENOMEM;
	mutex_lock(&fake.lock);
	count = min_t(unsigned int, fake.irq_count, FAKE_IRQ_LOG);
	first = fake.irq_count - count;
	for (i = first; i < fake.irq_count; i++) {
		const struct injected *e = &fake.irqs[i % FAKE_IRQ_LOG];

		used += scnprintf(text + used, cap - used, "%u %u\n", e->zone,
				  e->irq);
	}
	mutex_unlock(&fake.lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, text, used);
	kfree(text);
	return ret;
}

static ssize_t irqs_write(struct file *file, const char __user *ubuf,
			  size_t len, loff_t *ppos)
{
	mutex_lock(&fake.lock);
	fake.irq_count = 0;
	mutex_unlock(&fake.lock);
	return len;
}

static const struct file_operations irqs_fops = {
	.owner = THIS_MODULE,
	.read = irqs_read,
	.write = irqs_write,
	.llseek = default_llseek,
};

static ssize_t ram_read(struct file *file, char __user *ubuf, size_t len,
			loff_t *ppos)
{
	char text[48];
	int n = scnprintf(text, sizeof(text), "0x%llx 0x%lx\n", fake.ram_phys,
			  FAKE_RAM_SIZE);

	return simple_read_from_buffer(ubuf, len, ppos, text, n);
}

static const struct file_operations ram_fops = {
	.owner = THIS_MODULE,
	.read = ram_read,
	.llseek = default_llseek,
};

static ssize_t bridge_read(struct file *file, char __user *ubuf, size_t len,
			   loff_t *ppos)
{
	char text[32] = "none\n";
	int n;

	mutex_lock(&fake.lock);
	if (fake.bridge)
		scnprintf(text, sizeof(text), "0x%llx\n",
			  (u64)virt_to_phys(fake.bridge));
	mutex_unlock(&fake.lock);
	n = strlen(text);
	return simple_read_from_buffer(ubuf, len, ppos, text, n);
}

static const struct file_operations bridge_fops = {
	.owner = THIS_MODULE,
	.read = bridge_read,
	.llseek = default_llseek,
};

static int wakeups_get(void *data, u64 *val)
{
	*val = atomic_read(&fake.wakeups);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(wakeups_fops, wakeups_get, NULL, "%llu\n");

static ssize_t lines_read(struct file *file, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	size_t cap = 160 + FAKE_MAX_LINES * 32, used;
	char *text = kmalloc(cap, GFP_KERNEL);
	unsigned int i;
	ssize_t ret;

	if (!text)
		return -ENOMEM;
	mutex_lock(&fake.lock);
	used = scnprintf(text, cap, "clear_inject %llu\ndeassert %llu\n",
			 fake.clear_injects, fake.deasserts);
	used += scnprintf(text + used, cap - used, "rearm %d\n",
			  atomic_read(&fake.rearms));
	if (fake.boot_mode_set)
		used += scnprintf(text + used, cap - used,
				  "boot %u %u 0x%llx\n", fake.boot_mode.zone_id,
				  fake.boot_mode.multiboot_enabled,
				  fake.boot_mode.multiboot_info_paddr);
	else
		used += scnprintf(text + used, cap - used, "boot none\n");
	for (i = 0; i < fake.line_count; i++)
		used += scnprintf(text + used, cap - used, "line %u %u\n",
				  fake.lines[i].zone, fake.lines[i].irq);
	mutex_unlock(&fake.lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, text, used);
	kfree(text);
	return ret;
}

static const struct file_operations lines_fops = {
	.owner = THIS_MODULE,
	.read = lines_read,
	.llseek = default_llseek,
};

int hvisor_fake_init(void)
{
	unsigned int i, order = get_order(FAKE_RAM_SIZE);

	fake.ram = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
	if (!fake.ram)
		return -ENOMEM;
	for (i = 0; i < (1u << order); i++)
		SetPageReserved(fake.ram + i);
	fake.ram_phys = page_to_phys(fake.ram);
	fake.dir = debugfs_create_dir(HVISOR_KMOD_NAME, NULL);
	debugfs_create_file("ram", 0400, fake.dir, NULL, &ram_fops);
	debugfs_create_file("mmio", 0600, fake.dir, NULL, &mmio_fops);
	debugfs_create_file("irqs", 0600, fake.dir, NULL, &irqs_fops);
	debugfs_create_file_unsafe("wakeups", 0400, fake.dir, NULL,
				   &wakeups_fops);
	debugfs_create_file("bridge", 0400, fake.dir, NULL, &bridge_fops);
	debugfs_create_file("lines", 0400, fake.dir, NULL, &lines_fops);
	return 0;
}

void hvisor_fake_exit(void)
{
	unsigned int i, order = get_order(FAKE_RAM_SIZE);

	debugfs_remove_recursive(fake.dir);
	fake.bridge = NULL;
	for (i = 0; i < (1u << order); i++)
		ClearPageReserved(fake.ram + i);
	__free_pages(fake.ram, order);
	fake.ram = NULL;
}
