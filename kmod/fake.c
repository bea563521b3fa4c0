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
	struct dentry *dir;
} fake = {
	.lock = __MUTEX_INITIALIZER(fake.lock),
};

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
		front = HVISOR_RING_NEXT(front);
	}
	smp_mb(); /* entries read before the slots are handed back */
	WRITE_ONCE(b->res_front, front);
	return 0;
}

static long fake_start_zone(unsigned long pa, unsigned long size)
{
	const struct hvisor_zone_config *cfg = phys_to_virt(pa);
	int i, free_slot = -1;

	if (size != sizeof(*cfg))
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

long hvisor_fake_call(unsigned long code, unsigned long arg0,
		      unsigned long arg1)
{
	long ret;

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
		*(u64 *)phys_to_virt(arg0) = HVISOR_CONFIG_VERSION;
		ret = 0;
		break;
	default:
		ret = -ENOSYS; /* GET_ECAM_BASE etc.: the fake has no PCI */
		break;
	}
	mutex_unlock(&fake.lock);
	return ret;
}

static void fake_wake(struct irq_work *work)
{
	atomic_inc(&fake.wakeups);
	hvisor_wake_daemon();
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
		irq_work_queue(&fake.wake_work);
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
