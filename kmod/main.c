// SPDX-License-Identifier: MIT
/*
 * /dev/hvisor: zone 0's door to the hvisor hypervisor (ioctls, hypercalls,
 * the virtio bridge page, guest RAM mappings). Facts: docs/hvisor-interface.md
 * in the shared docs; ioctl numbers and layouts: interface/hvisor/bridge.h.
 *
 * One daemon serves at a time: the file that issued HVISOR_INIT_VIRTIO owns
 * the bridge until it is closed; another INIT_VIRTIO meanwhile gets EBUSY.
 * The bridge page outlives its daemon because the hypervisor keeps its
 * address: the next daemon gets the same page, zeroed and re-announced.
 * Once announced it is never freed, not even at unload: there is no
 * hypercall to take the address back, and a guest's register write would
 * make the hypervisor write into whatever the kernel reused the page for.
 *
 * Who may do what (kmod/README.md, "Security model"): see request_allowed.
 */
#include <asm/cacheflush.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "hvisor/scmi.h"
#include "hvisor_kmod.h"
#include "hypercall.h"

/* Per open file: the eventfd it registered (used while it owns the bridge). */
struct hvisor_file {
	struct eventfd_ctx *efd;
	struct hvisor_scmi_set *scmi; /* its SCMI allowed set, or NULL */
};

static struct {
	struct mutex lock; /* bridge, owner, the owner's eventfd switch */
	struct hvisor_bridge *bridge; /* one page, or NULL before first use */
	bool bridge_announced;        /* the hypervisor knows its address */
	struct file *owner;           /* the serving daemon's file, or NULL */
	spinlock_t wake_lock;         /* wake_efd, taken in irq context */
	struct eventfd_ctx *wake_efd; /* the owner's eventfd */
} hv = {
	.lock = __MUTEX_INITIALIZER(hv.lock),
	.wake_lock = __SPIN_LOCK_UNLOCKED(hv.wake_lock),
};

void hvisor_wake_daemon(void)
{
	unsigned long flags;

	spin_lock_irqsave(&hv.wake_lock, flags);
	if (hv.wake_efd) {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
		eventfd_signal(hv.wake_efd);
#else
		eventfd_signal(hv.wake_efd, 1);
#endif
	}
	spin_unlock_irqrestore(&hv.wake_lock, flags);
}

/* Points the wake-up interrupt at `efd`; the caller holds hv.lock. */
static void set_wake_efd(struct eventfd_ctx *efd)
{
	unsigned long flags;

	spin_lock_irqsave(&hv.wake_lock, flags);
	hv.wake_efd = efd;
	spin_unlock_irqrestore(&hv.wake_lock, flags);
}

static int hvisor_open(struct inode *inode, struct file *file)
{
	struct hvisor_file *hf = kzalloc(sizeof(*hf), GFP_KERNEL);

	if (!hf)
		return -ENOMEM;
	file->private_data = hf;
	hvisor_regions_open(file);
	return 0;
}

static int hvisor_release(struct inode *inode, struct file *file)
{
	struct hvisor_file *hf = file->private_data;

	mutex_lock(&hv.lock);
	if (hv.owner == file) {
		hv.owner = NULL;
		set_wake_efd(NULL);
	}
	mutex_unlock(&hv.lock);
	if (hf->efd)
		eventfd_ctx_put(hf->efd);
	hvisor_scmi_release(hf->scmi);
	kfree(hf);
	return 0;
}

static long init_virtio(struct file *file)
{
	struct hvisor_file *hf = file->private_data;
	long err;

	mutex_lock(&hv.lock);
	if (hv.owner) {
		err = -EBUSY;
		goto out;
	}
	if (!hv.bridge) {
		hv.bridge = (struct hvisor_bridge *)get_zeroed_page(GFP_KERNEL);
		if (!hv.bridge) {
			err = -ENOMEM;
			goto out;
		}
		SetPageReserved(virt_to_page(hv.bridge));
	} else {
		memset(hv.bridge, 0, PAGE_SIZE);
	}
	err = hvisor_call(HVISOR_HC_INIT_VIRTIO, __pa(hv.bridge), 0);
	if (err) {
		pr_err(HVISOR_KMOD_NAME ": INIT_VIRTIO hypercall failed: %ld\n",
		       err);
		goto out;
	}
	hv.bridge_announced = true;
	hv.owner = file;
	set_wake_efd(hf->efd);
out:
	/* A page the hypervisor never heard of is not worth keeping. */
	if (hv.bridge && !hv.bridge_announced) {
		ClearPageReserved(virt_to_page(hv.bridge));
		free_page((unsigned long)hv.bridge);
		hv.bridge = NULL;
	}
	mutex_unlock(&hv.lock);
	return err;
}

static long set_eventfd(struct file *file, unsigned long fd)
{
	struct hvisor_file *hf = file->private_data;
	struct eventfd_ctx *ctx, *old;

	if (fd > INT_MAX)
		return -EBADF;
	ctx = eventfd_ctx_fdget((int)fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&hv.lock);
	old = hf->efd;
	hf->efd = ctx;
	if (hv.owner == file)
		set_wake_efd(ctx);
	mutex_unlock(&hv.lock);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

/* sizeof(zone_config_t) in the layout the hypervisor reads: hvisor v0.4
 * (0x05) refuses START_ZONE with any other size (EINVAL). Unknown versions
 * get the 0x06 size; user space refuses them before this. */
static size_t zone_config_size(void)
{
	u64 *ver = kzalloc(sizeof(*ver), GFP_KERNEL);
	size_t size = HVISOR_ZONE_CONFIG_SIZE(HVISOR_CONFIG_VERSION_V06);

	if (ver && !hvisor_call(HVISOR_HC_CONFIG_CHECK, __pa(ver), 0) &&
	    HVISOR_ZONE_CONFIG_SIZE(*ver))
		size = HVISOR_ZONE_CONFIG_SIZE(*ver);
	kfree(ver);
	return size;
}

static long zone_start(void __user *arg)
{
	/* The members read here (zone_id, memory regions) come before
	 * arch_config, where both layouts agree. */
	struct hvisor_zone_config *cfg;
	LIST_HEAD(fresh);
	size_t size = zone_config_size();
	long err;

	/* kmalloc, not the stack: the hypervisor reads it by physical address
	 * and a vmapped stack has none. 0x06 is the larger layout. */
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	if (copy_from_user(cfg, arg, size)) {
		err = -EFAULT;
		goto out;
	}
	/* Refused before the hypervisor sees it: once START_ZONE returns the
	 * guest may already run on the memory. */
	err = hvisor_regions_prepare(cfg, &fresh);
	if (err)
		goto out;
	err = hvisor_call(HVISOR_HC_START_ZONE, __pa(cfg), size);
	if (err) {
		pr_err(HVISOR_KMOD_NAME ": zone %u: START_ZONE failed: %ld\n",
		       cfg->zone_id, err);
		hvisor_regions_discard(&fresh);
		goto out;
	}
	hvisor_regions_commit(&fresh);
out:
	kfree(cfg);
	return err;
}

static long zone_shutdown(unsigned long zone_id)
{
	long err = hvisor_call(HVISOR_HC_SHUTDOWN_ZONE, zone_id, 0);

	if (!err)
		hvisor_regions_forget_zone(zone_id);
	return err;
}

static long zone_list(void __user *arg)
{
	struct hvisor_zone_list_args args;
	struct hvisor_zone_info *zones;
	u64 cnt;
	long ret;

	if (copy_from_user(&args, arg, sizeof(args)))
		return -EFAULT;
	/* Bounded by what the hypervisor can hold, whatever user space asks. */
	cnt = min_t(u64, args.cnt, HVISOR_MAX_ZONES);
	if (cnt == 0)
		return -EINVAL;
	zones = kcalloc(cnt, sizeof(*zones), GFP_KERNEL);
	if (!zones)
		return -ENOMEM;
	ret = hvisor_call(HVISOR_HC_ZONE_LIST, __pa(zones), cnt);
	if (ret < 0)
		goto out;
	if (copy_to_user((void __user *)args.zones, zones,
			 min_t(u64, ret, cnt) * sizeof(*zones)))
		ret = -EFAULT;
out:
	kfree(zones);
	return ret;
}

/* CONFIG_CHECK, GET_ECAM_BASE: the hypervisor writes one u64 at a physical
 * address we give it. */
static long get_u64(unsigned long code, void __user *arg)
{
	u64 *val = kzalloc(sizeof(*val), GFP_KERNEL);
	long err;

	if (!val)
		return -ENOMEM;
	err = hvisor_call(code, __pa(val), 0);
	if (!err && copy_to_user(arg, val, sizeof(*val)))
		err = -EFAULT;
	kfree(val);
	return err;
}

#ifdef CONFIG_ARM64
/* Clean + invalidate [start, start+size) to the point of coherency, so the
 * image is in memory for a CPU that starts with caches off. Written out
 * because no kernel export does this for modules across 5.10..6.x. */
static void clean_dcache_poc(void *start, size_t size)
{
	unsigned long ctr, line, p, end = (unsigned long)start + size;

	asm volatile("mrs %0, ctr_el0" : "=r"(ctr));
	line = 4ul << ((ctr >> 16) & 0xf); /* DminLine: log2 of words */
	for (p = (unsigned long)start & ~(line - 1); p < end; p += line)
		asm volatile("dc civac, %0" : : "r"(p) : "memory");
	dsb(sy);
}
#endif

/* Makes a freshly written image visible to the CPUs that will run it. */
static void clean_image(void *start, size_t size)
{
#ifdef CONFIG_ARM64
	clean_dcache_poc(start, size);
#endif
	flush_icache_range((unsigned long)start, (unsigned long)start + size);
}

static long load_image(void __user *arg)
{
	struct hvisor_image_desc desc;
	u64 base, offset, len;
	void *map;
	long err = 0;

	if (copy_from_user(&desc, arg, sizeof(desc)))
		return -EFAULT;
	if (!desc.size || desc.load_paddr + desc.size < desc.load_paddr)
		return -EINVAL;
	base = desc.load_paddr & PAGE_MASK;
	offset = desc.load_paddr - base;
	len = PAGE_ALIGN(offset + desc.size);
	/* Checked as mapped, whole pages: memremap WARNs on a page that is
	 * part System RAM, and ioremap on one beyond the physical width. */
	if (len < offset + desc.size || !hvisor_phys_range_ok(base, len))
		return -EINVAL;
	/* hvisor-tool loads kernel and dtb before it starts the zone, so the
	 * zone's RAM is not known yet: only zone 0's own RAM is refused. */
	if (hvisor_zone0_owns(base, len))
		return -EPERM;
	map = memremap(base, len, MEMREMAP_WB);
	if (!map)
		return -ENOMEM;
	if (copy_from_user(map + offset, u64_to_user_ptr(desc.user_buffer),
			   desc.size))
		err = -EFAULT;
	else
		clean_image(map + offset, desc.size);
	memunmap(map);
	return err;
}

static long declare_ram(void __user *arg)
{
	struct hvisor_ram_decl decl;

	if (copy_from_user(&decl, arg, sizeof(decl)))
		return -EFAULT;
	return hvisor_regions_declare(decl.zone_id, decl.physical_start,
				      decl.size);
}

/* 0, or why `file` may not use the bridge: -EPERM another file owns it,
 * -ENODEV nobody does. The caller holds hv.lock. */
static int owner_check_locked(struct file *file)
{
	if (hv.owner == file)
		return 0;
	return hv.owner ? -EPERM : -ENODEV;
}

/* Only the serving daemon injects or drops guest interrupts; it stays the
 * owner while it is in an ioctl (release cannot run meanwhile). */
static int owner_check(struct file *file)
{
	int err;

	mutex_lock(&hv.lock);
	err = owner_check_locked(file);
	mutex_unlock(&hv.lock);
	return err;
}

/* Writing or exposing physical memory needs what /dev/mem needs. */
static int rawio_allowed(void)
{
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	return security_locked_down(LOCKDOWN_DEV_MEM);
}

/* The rights a request needs beyond an open /dev/hvisor (mode 0600):
 * anything that changes state needs a file opened for writing (EBADF);
 * what injects or drops guest interrupts, the file that owns the bridge
 * (EPERM, ENODEV while nobody does);
 * what writes or exposes physical memory also needs CAP_SYS_RAWIO and a
 * kernel not locked down (EPERM). Unknown requests count as changes. */
static int request_allowed(struct file *file, unsigned int cmd)
{
	switch (cmd) {
	case HVISOR_GET_TASK:
	case HVISOR_ZONE_LIST:
	case HVISOR_CONFIG_CHECK:
	case HVISOR_GET_ECAM_BASE:
	case HVISOR_GET_IRQ_MODEL:
		return 0;
	}
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	switch (cmd) {
	case HVISOR_ZONE_START:
	case HVISOR_LOAD_IMAGE:
	case HVISOR_DECLARE_RAM:
		return rawio_allowed();
	case HVISOR_FINISH_REQ:
	case HVISOR_CLEAR_INJECT_IRQ:
	case HVISOR_DEASSERT_IRQ:
		return owner_check(file);
	case HVISOR_SCMI_CLOCK_IOCTL: /* board clocks: as much as /dev/mem */
	case HVISOR_SCMI_RESET_IOCTL:
	case HVISOR_SCMI_POWER_IOCTL:
	case HVISOR_SCMI_ALLOW_IOCTL:
		return rawio_allowed();
	case HVISOR_SCMI_ZONE_IOCTL: /* bounded by the set ALLOW declared */
		return security_locked_down(LOCKDOWN_DEV_MEM);
	}
	return 0; /* SEAL among them: it only takes rights away */
}

static long hvisor_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	int err = request_allowed(file, cmd);

	if (err)
		return err;
	switch (cmd) {
	case HVISOR_INIT_VIRTIO:
		return init_virtio(file);
	case HVISOR_GET_TASK:
		return 0; /* legacy: nothing uses it any more */
	case HVISOR_FINISH_REQ:
		return hvisor_call(HVISOR_HC_FINISH_REQ, 0, 0);
	case HVISOR_ZONE_START:
		return zone_start(uarg);
	case HVISOR_ZONE_SHUTDOWN:
		return zone_shutdown(arg);
	case HVISOR_ZONE_LIST:
		return zone_list(uarg);
	case HVISOR_CONFIG_CHECK:
		return get_u64(HVISOR_HC_CONFIG_CHECK, uarg);
	case HVISOR_SET_EVENTFD:
		return set_eventfd(file, arg);
	case HVISOR_LOAD_IMAGE:
		return load_image(uarg);
	case HVISOR_GET_ECAM_BASE:
		return get_u64(HVISOR_HC_GET_ECAM_BASE, uarg);
	case HVISOR_DECLARE_RAM:
		return declare_ram(uarg);
	case HVISOR_SCMI_CLOCK_IOCTL:
	case HVISOR_SCMI_RESET_IOCTL:
	case HVISOR_SCMI_POWER_IOCTL:
	case HVISOR_SCMI_ALLOW_IOCTL:
	case HVISOR_SCMI_SEAL_IOCTL:
	case HVISOR_SCMI_ZONE_IOCTL:
		return hvisor_scmi_ioctl(
			&((struct hvisor_file *)file->private_data)->scmi, cmd,
			uarg);
	default:
		return hvisor_lines_ioctl(cmd, arg); /* ENOTTY if unknown */
	}
}

static int map_bridge(struct file *file, struct vm_area_struct *vma)
{
	int err;

	if (vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	/* The page is the module's for good (never freed once announced), so
	 * mapping it up front is safe; regions.c never zaps page 0. */
	mutex_lock(&hv.lock);
	err = owner_check_locked(file);
	if (!err)
		err = remap_pfn_range(vma, vma->vm_start,
				      virt_to_phys(hv.bridge) >> PAGE_SHIFT,
				      PAGE_SIZE, vma->vm_page_prot);
	mutex_unlock(&hv.lock);
	return err;
}

static int hvisor_mmap(struct file *file, struct vm_area_struct *vma)
{
	int err;

	/* A private copy-on-write view of shared memory makes no sense.
	 * (VM_MAYSHARE: a read-only file's MAP_SHARED lacks VM_SHARED.) */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff == 0)
		return map_bridge(file, vma);
	/* Guest RAM is physical memory: /dev/mem's rules (see rawio_allowed);
	 * PROT_WRITE on a read-only file is refused by the VFS already. */
	err = rawio_allowed();
	if (err)
		return err;
	return hvisor_regions_mmap(vma);
}

static const struct file_operations hvisor_fops = {
	.owner = THIS_MODULE,
	.open = hvisor_open,
	.release = hvisor_release,
	.unlocked_ioctl = hvisor_ioctl,
	.mmap = hvisor_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice hvisor_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = HVISOR_KMOD_NAME,
	.fops = &hvisor_fops,
	.mode = 0600,
};

static int __init hvisor_init(void)
{
	int err;

	err = hvisor_regions_init();
	if (err)
		return err;
#ifdef HVISOR_FAKE
	err = hvisor_fake_init();
	if (err)
		goto fail_regions;
#endif
	err = hvisor_lines_init();
	if (err)
		goto fail_fake;
	err = hvisor_wakeup_irq_init();
	if (err)
		goto fail_fake;
	err = hvisor_scmi_init();
	if (err)
		goto fail_irq;
	err = misc_register(&hvisor_misc);
	if (err)
		goto fail_scmi;
#ifdef HVISOR_FAKE
	pr_warn(HVISOR_KMOD_NAME
		": TEST BUILD: hypercalls go to a fake hypervisor\n");
#ifndef TAINT_TEST
	/* Before 6.0 MODULE_INFO(test) does not taint: say it ourselves. */
	add_taint(TAINT_USER, LOCKDEP_STILL_OK);
#endif
#endif
	return 0;

fail_scmi:
	hvisor_scmi_exit();
fail_irq:
	hvisor_wakeup_irq_exit();
fail_fake:
#ifdef HVISOR_FAKE
	hvisor_fake_exit();
fail_regions:
#endif
	hvisor_regions_exit();
	return err;
}

static void __exit hvisor_exit(void)
{
	/* No file is open (the module is pinned while one is), so nobody
	 * owns the bridge and no eventfd is referenced any more. */
	misc_deregister(&hvisor_misc);
	hvisor_scmi_exit();
	hvisor_wakeup_irq_exit();
#ifdef HVISOR_FAKE
	hvisor_fake_exit();
#endif
	/* An announced bridge page stays reserved for the life of the
	 * system (see the top of this file): one page per unload after a
	 * daemon ran. A page never announced was freed by init_virtio. */
	if (hv.bridge)
		pr_info(HVISOR_KMOD_NAME
			": the bridge page stays reserved: the hypervisor "
			"still writes to it\n");
	hv.bridge = NULL;
	hvisor_regions_exit();
}

module_init(hvisor_init);
module_exit(hvisor_exit);

MODULE_LICENSE("Dual MIT/GPL");
#ifdef HVISOR_FAKE
/* modinfo says so, and loading it taints the kernel (TAINT_TEST, 'N'). */
MODULE_DESCRIPTION("TEST BUILD, fake hypervisor: hvisor zone-0 interface");
MODULE_INFO(test, "Y");
MODULE_INFO(hvisor_build, "test (fake hypervisor)");
#else
MODULE_DESCRIPTION("hvisor zone-0 interface: hypercalls, virtio bridge, "
		   "guest RAM mappings");
MODULE_INFO(hvisor_build, "real");
#endif
