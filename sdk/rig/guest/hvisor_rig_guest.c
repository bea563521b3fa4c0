// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hvisor_rig_guest: the guest half of hvisor-rig (docs/real-guest-rig.md).
 *
 * The rig shows the guest a PCI device whose BAR0 holds one 0x200-byte
 * virtio-mmio window per device of the zone; the hvisor daemon answers every
 * access. This module registers a "virtio-mmio" platform device for each
 * window that answers with the virtio magic, so the stock virtio_mmio driver
 * probes it exactly as on hvisor. Interrupts arrive on MSI-X vector 0 of an
 * ivshmem-doorbell device (the rig rings it for every injection); all
 * windows share that irq, as devices on one hvisor line would.
 */
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>

#define RIG_VENDOR      0x1b36 /* sdk/rig/rig.h: RIG_PCI_VENDOR */
#define RIG_DEVICE      0x4856 /* RIG_PCI_DEVICE */
#define IVSHMEM_VENDOR  0x1af4
#define IVSHMEM_DEVICE  0x1110
#define RIG_WINDOW      0x200
#define RIG_MAX_WINDOWS 64
#define VIRTIO_MAGIC    0x74726976 /* "virt" */

enum rig_role { ROLE_WINDOWS, ROLE_DOORBELL };

/* The doorbell's irq, once its MSI-X vector is allocated. */
static int rig_irq = -EPROBE_DEFER;

struct rig_windows {
	struct platform_device *pdev[RIG_MAX_WINDOWS];
	unsigned int count;
};

static int doorbell_probe(struct pci_dev *pdev)
{
	int err = pcim_enable_device(pdev);

	if (err)
		return err;
	pci_set_master(pdev); /* MSI-X messages are DMA writes */
	err = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (err < 0)
		return err;
	rig_irq = pci_irq_vector(pdev, 0);
	dev_info(&pdev->dev, "doorbell: irq %d\n", rig_irq);
	return 0;
}

static void windows_unregister(struct rig_windows *w)
{
	while (w->count)
		platform_device_unregister(w->pdev[--w->count]);
}

static int windows_probe(struct pci_dev *pdev)
{
	resource_size_t start, len, off;
	struct rig_windows *w;
	void __iomem *bar;
	int err;

	/* The stock driver needs the irq at probe: wait for the doorbell. */
	if (rig_irq < 0)
		return -EPROBE_DEFER;
	err = pcim_enable_device(pdev);
	if (err)
		return err;
	w = devm_kzalloc(&pdev->dev, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	start = pci_resource_start(pdev, 0);
	len = pci_resource_len(pdev, 0);
	/* Not requested: each virtio-mmio device requests its own window. */
	bar = pci_iomap(pdev, 0, len);
	if (!bar)
		return -ENOMEM;
	for (off = 0; off + RIG_WINDOW <= len && w->count < RIG_MAX_WINDOWS;
	     off += RIG_WINDOW) {
		struct resource res[] = {
			DEFINE_RES_MEM(start + off, RIG_WINDOW),
			DEFINE_RES_IRQ(rig_irq),
		};
		struct platform_device *pd;

		/* Windows past the zone's devices read as 0. */
		if (ioread32(bar + off) != VIRTIO_MAGIC)
			break;
		/* Device id = window index: the host maps it back to the
		 * device's address in the virtio JSON. */
		pd = platform_device_register_resndata(
			&pdev->dev, "virtio-mmio", w->count, res,
			ARRAY_SIZE(res), NULL, 0);
		if (IS_ERR(pd)) {
			err = PTR_ERR(pd);
			dev_err(&pdev->dev, "window %u: %d\n", w->count, err);
			windows_unregister(w);
			pci_iounmap(pdev, bar);
			return err;
		}
		w->pdev[w->count++] = pd;
	}
	pci_iounmap(pdev, bar);
	pci_set_drvdata(pdev, w);
	dev_info(&pdev->dev, "%u virtio-mmio window(s) at %pa, irq %d\n",
		 w->count, &start, rig_irq);
	return 0;
}

static int rig_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return id->driver_data == ROLE_DOORBELL ? doorbell_probe(pdev)
						: windows_probe(pdev);
}

static void rig_remove(struct pci_dev *pdev)
{
	struct rig_windows *w = pci_get_drvdata(pdev);

	if (w)
		windows_unregister(w);
	else
		rig_irq = -EPROBE_DEFER; /* pcim frees the vectors */
}

static const struct pci_device_id rig_ids[] = {
	{PCI_DEVICE(RIG_VENDOR, RIG_DEVICE), .driver_data = ROLE_WINDOWS},
	{PCI_DEVICE(IVSHMEM_VENDOR, IVSHMEM_DEVICE),
	 .driver_data = ROLE_DOORBELL},
	{}};
MODULE_DEVICE_TABLE(pci, rig_ids);

static struct pci_driver rig_driver = {
	.name = "hvisor_rig_guest",
	.id_table = rig_ids,
	.probe = rig_probe,
	.remove = rig_remove,
};
module_pci_driver(rig_driver);

MODULE_DESCRIPTION(
	"hvisor-rig guest: virtio-mmio windows of the rig's PCI device");
MODULE_LICENSE("Dual MIT/GPL");
