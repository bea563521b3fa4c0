// SPDX-License-Identifier: MIT
/*
 * The list of zone-0 physical ranges that user space may map through
 * /dev/hvisor: RAM regions of zones started through
 * this module (from the zone_config_t it forwarded) and ranges the daemon
 * declared for zones started elsewhere. Everything else is refused, and so
 * is anything overlapping zone 0's own RAM: handing the kernel's pages to
 * user space would let it corrupt the kernel. The list is bounded
 * (HVISOR_MAX_RAM_RANGES) so user space cannot grow it without limit.
 *
 * Guest RAM mappings are filled one page per fault, each checked against
 * the list under ranges_lock, and every open file shares one address_space
 * (map_inode): removing a range zaps it from every process that mapped it,
 * children included, and the next touch re-checks. Prefaulting in mmap()
 * instead would leave a window between the check and the vma becoming
 * visible to the zap, and on x86 a zapped remap_pfn_range() vma WARNs at
 * munmap/fork (PAT's untrack_pfn wants its first page mapped).
 */
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/list.h>
#include <linux/memory.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/version.h>

#include "hvisor_kmod.h"

struct ram_range {
	struct list_head node;
	u64 zone_id;
	u64 start, size;
	bool declared; /* by HVISOR_DECLARE_RAM rather than ZONE_START */
	void *memtype; /* x86 PAT: the WB kernel mapping, see new_range */
};

static LIST_HEAD(ranges);
static unsigned int range_count;
/* The list, and every guest RAM page-table entry: held across the check
 * and the insert in guest_fault, and across the removal and the zap. */
static DEFINE_MUTEX(ranges_lock);

/* One past the highest physical address this CPU's page tables express. */
static u64 phys_limit(void)
{
#if defined(CONFIG_X86)
	return 1ull << boot_cpu_data.x86_phys_bits;
#elif defined(CONFIG_ARM64)
	return 1ull << PHYS_MASK_SHIFT;
#elif defined(MAX_PHYSMEM_BITS)
	return 1ull << MAX_PHYSMEM_BITS;
#else
	return PHYS_ADDR_MAX;
#endif
}

/* A page-table entry keeps only some bits of the frame number: a frame it
 * drops bits of would alias a lower one (zone 0's kernel, say). */
static bool pfn_round_trips(u64 pfn)
{
	return pte_pfn(pfn_pte(pfn, PAGE_SHARED)) == pfn;
}

bool hvisor_phys_range_ok(u64 start, u64 size)
{
	u64 last = start + size - 1;

	if (!size || last < start || last >= phys_limit())
		return false;
	return pfn_round_trips(start >> PAGE_SHIFT) &&
	       pfn_round_trips(last >> PAGE_SHIFT);
}

/* Zone 0's own memory may never be mapped, whatever a config claims. The
 * fake hypervisor's guest RAM is the one exception: it is kernel memory the
 * fake set aside to stand in for another zone's RAM. */
bool hvisor_zone0_owns(u64 start, u64 size)
{
#ifdef HVISOR_FAKE
	if (hvisor_fake_owns(start, size))
		return false;
#endif
	return region_intersects(start, size, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) != REGION_DISJOINT;
}

/* x86 with PAT: a page a fault inserts takes the memory type reserved for
 * its address, and where nobody reserved one that is uncached (UC-), which
 * would make the daemon's every access to guest RAM outside zone 0's RAM
 * slow. A write-back kernel mapping held as long as the range is recorded
 * reserves write-back for it (for RAM memremap maps nothing: it is WB).
 * Elsewhere the vma's protection is used as it is. */
static struct ram_range *new_range(u64 zone_id, u64 start, u64 size,
				   bool declared)
{
	struct ram_range *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	r->zone_id = zone_id;
	r->start = start;
	r->size = size;
	r->declared = declared;
#ifdef CONFIG_X86_PAT
	r->memtype = memremap(start, size, MEMREMAP_WB);
	if (!r->memtype)
		pr_warn(HVISOR_KMOD_NAME
			": no write-back type for 0x%llx+0x%llx: user "
			"mappings of it will be uncached\n",
			start, size);
#endif
	return r;
}

static void free_range(struct ram_range *r)
{
	if (r->memtype)
		memunmap(r->memtype);
	kfree(r);
}

static bool have_range(u64 zone_id, u64 start, u64 size)
{
	struct ram_range *r;

	list_for_each_entry(r, &ranges, node) if (r->zone_id == zone_id &&
						  r->start == start &&
						  r->size == size) return true;
	return false;
}

/* The file system behind map_inode: never mounted where anyone can see it,
 * it only gives every /dev/hvisor file one address_space (as /dev/mem does
 * with its own inode), so a removed range can be zapped everywhere. */
#define HVISOR_MAPFS_MAGIC 0x68767372 /* "hvsr" */

static int mapfs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, HVISOR_MAPFS_MAGIC) ? 0 : -ENOMEM;
}

/* No .owner: the module pins this mount itself, and a mount that held the
 * module would keep it from ever being unloaded. */
static struct file_system_type mapfs_type = {
	.name = HVISOR_KMOD_NAME "-map",
	.init_fs_context = mapfs_init_fs_context,
	.kill_sb = kill_anon_super,
};
static struct vfsmount *mapfs_mnt;
static int mapfs_count;
static struct inode *map_inode;

/* Removes every user mapping of [start, start+size); ranges_lock held.
 * Page 0 of the address_space is the bridge (mmap offset 0), never RAM. */
static void zap_locked(u64 start, u64 size)
{
	if (start < PAGE_SIZE) {
		if (size <= PAGE_SIZE - start)
			return;
		size -= PAGE_SIZE - start;
		start = PAGE_SIZE;
	}
	unmap_mapping_range(map_inode->i_mapping, start, size, 1);
}

static void remove_locked(struct ram_range *r)
{
	list_del(&r->node);
	range_count--;
	zap_locked(r->start, r->size);
	free_range(r);
}

/* The checks START_ZONE must pass before the hypervisor hears of the zone:
 * no region it maps into the guest (RAM or IO) may hold zone 0's RAM. */
static int check_region(u32 zone_id, unsigned int i,
			const struct hvisor_memory_region *m)
{
	const char *why = NULL;
	int err = 0;

	if (m->type == HVISOR_MEM_TYPE_RAM) {
		if (!hvisor_phys_range_ok(m->physical_start, m->size)) {
			why = "is not a physical range of this CPU";
			err = -EINVAL;
		}
	} else if (m->type != HVISOR_MEM_TYPE_IO || !m->size) {
		return 0; /* virtio regions are trapped, not mapped */
	} else if (m->physical_start + m->size < m->physical_start) {
		why = "wraps around";
		err = -EINVAL;
	}
	if (!err && hvisor_zone0_owns(m->physical_start, m->size)) {
		why = "overlaps zone 0 RAM";
		err = -EPERM;
	}
	if (err)
		pr_warn(HVISOR_KMOD_NAME
			": zone %u: memory region %u (0x%llx+0x%llx) %s\n",
			zone_id, i, m->physical_start, m->size, why);
	return err;
}

int hvisor_regions_prepare(const struct hvisor_zone_config *cfg,
			   struct list_head *fresh)
{
	struct ram_range *r;
	unsigned int i, n = 0;
	int err = 0;

	if (cfg->num_memory_regions > HVISOR_MAX_MEMORY_REGIONS)
		return -EINVAL;
	for (i = 0; i < cfg->num_memory_regions; i++) {
		const struct hvisor_memory_region *m = &cfg->memory_regions[i];

		err = check_region(cfg->zone_id, i, m);
		if (err)
			goto fail;
		if (m->type != HVISOR_MEM_TYPE_RAM)
			continue;
		r = new_range(cfg->zone_id, m->physical_start, m->size, false);
		if (!r) {
			err = -ENOMEM;
			goto fail;
		}
		list_add_tail(&r->node, fresh);
		n++;
	}
	mutex_lock(&ranges_lock);
	if (range_count + n > HVISOR_MAX_RAM_RANGES)
		err = -ENOSPC;
	mutex_unlock(&ranges_lock);
	if (err)
		goto fail;
	return 0;
fail:
	hvisor_regions_discard(fresh);
	return err;
}

void hvisor_regions_commit(struct list_head *fresh)
{
	struct ram_range *r;
	unsigned int n = 0;

	list_for_each_entry(r, fresh, node) n++;
	mutex_lock(&ranges_lock);
	/* Checked in prepare; a declaration racing in may overshoot the
	 * bound by one zone's regions, which is still bounded. */
	list_splice_tail_init(fresh, &ranges);
	range_count += n;
	mutex_unlock(&ranges_lock);
}

void hvisor_regions_discard(struct list_head *fresh)
{
	struct ram_range *r, *tmp;

	list_for_each_entry_safe(r, tmp, fresh, node) free_range(r);
	INIT_LIST_HEAD(fresh);
}

int hvisor_regions_declare(u64 zone_id, u64 start, u64 size)
{
	struct ram_range *r, *tmp;
	int err = 0;

	if (size == 0) {
		mutex_lock(&ranges_lock);
		list_for_each_entry_safe(r, tmp, &ranges, node)
		{
			if (r->zone_id == zone_id && r->declared)
				remove_locked(r);
		}
		mutex_unlock(&ranges_lock);
		return 0;
	}
	if (!hvisor_phys_range_ok(start, size))
		return -EINVAL;
	if (hvisor_zone0_owns(start, size))
		return -EPERM;
	r = new_range(zone_id, start, size, true);
	if (!r)
		return -ENOMEM;
	mutex_lock(&ranges_lock);
	if (have_range(zone_id, start, size)) {
		free_range(r); /* declaring twice is harmless */
	} else if (range_count >= HVISOR_MAX_RAM_RANGES) {
		free_range(r);
		err = -ENOSPC;
	} else {
		list_add_tail(&r->node, &ranges);
		range_count++;
	}
	mutex_unlock(&ranges_lock);
	return err;
}

void hvisor_regions_forget_zone(u64 zone_id)
{
	struct ram_range *r, *tmp;

	mutex_lock(&ranges_lock);
	list_for_each_entry_safe(r, tmp, &ranges, node)
	{
		if (r->zone_id == zone_id)
			remove_locked(r);
	}
	mutex_unlock(&ranges_lock);
}

static bool allowed_locked(u64 start, u64 size)
{
	struct ram_range *r;

	if (!hvisor_phys_range_ok(start, size))
		return false;
	list_for_each_entry(r, &ranges, node)
	{
		if (start >= r->start && start + size <= r->start + r->size) {
			/* Checked again at use: a declaration made before
			 * memory hotplug must not let zone 0's new RAM
			 * through. */
			return !hvisor_zone0_owns(start, size);
		}
	}
	return false;
}

/* Fills one page of a guest RAM mapping, if it is still allowed. */
static vm_fault_t guest_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long pfn =
		vma->vm_pgoff + ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	mutex_lock(&ranges_lock);
	if (allowed_locked(PFN_PHYS(pfn), PAGE_SIZE))
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	mutex_unlock(&ranges_lock);
	return ret;
}

static const struct vm_operations_struct guest_vm_ops = {
	.fault = guest_fault,
};

/* Maps no page yet: guest_fault checks and fills each on first use. */
int hvisor_regions_mmap(struct vm_area_struct *vma)
{
	u64 len = vma->vm_end - vma->vm_start;
	bool ok;

	if (vma->vm_pgoff >= (1ul << (64 - PAGE_SHIFT)))
		return -EPERM;
	mutex_lock(&ranges_lock);
	ok = allowed_locked(PFN_PHYS((u64)vma->vm_pgoff), len);
	mutex_unlock(&ranges_lock);
	if (!ok)
		return -EPERM;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
#endif
	vma->vm_ops = &guest_vm_ops;
	return 0;
}

void hvisor_regions_open(struct file *file)
{
	file->f_mapping = map_inode->i_mapping;
}

/* Memory hotplug: RAM coming online in zone 0 leaves every user mapping
 * (its resource is already System RAM, so faults refuse it from now on). */
static int hotplug_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	struct memory_notify *mn = data;

	if (action == MEM_GOING_ONLINE) {
		mutex_lock(&ranges_lock);
		zap_locked(PFN_PHYS(mn->start_pfn), PFN_PHYS(mn->nr_pages));
		mutex_unlock(&ranges_lock);
	}
	return NOTIFY_OK;
}

static struct notifier_block hotplug_nb = {
	.notifier_call = hotplug_notify,
};

int hvisor_regions_init(void)
{
	int err = simple_pin_fs(&mapfs_type, &mapfs_mnt, &mapfs_count);

	if (err)
		return err;
	map_inode = alloc_anon_inode(mapfs_mnt->mnt_sb);
	if (IS_ERR(map_inode)) {
		err = PTR_ERR(map_inode);
		goto fail_fs;
	}
	err = register_memory_notifier(&hotplug_nb);
	if (err)
		goto fail_inode;
	return 0;

fail_inode:
	iput(map_inode);
fail_fs:
	simple_release_fs(&mapfs_mnt, &mapfs_count);
	return err;
}

/* Every file is closed (each pins the module), so no mapping is left. */
void hvisor_regions_exit(void)
{
	struct ram_range *r, *tmp;

	unregister_memory_notifier(&hotplug_nb);
	mutex_lock(&ranges_lock);
	list_for_each_entry_safe(r, tmp, &ranges, node)
	{
		list_del(&r->node);
		free_range(r);
	}
	range_count = 0;
	mutex_unlock(&ranges_lock);
	iput(map_inode);
	simple_release_fs(&mapfs_mnt, &mapfs_count);
}
