// SPDX-License-Identifier: MIT
/*
 * swlblk: an example block driver for SWIOTLB Lens, shaped like an NVMe controller: it needs
 * the offset of each buffer within a 4 KiB controller page kept (dma_set_min_align_mask), and
 * it runs in a confidential-computing guest, where every streaming mapping bounces.
 *
 * swiotlb-file: platform=sev-guest ram=8G cpus=4 cmdline="swiotlb=8192"
 */
#include <linux/blk-mq.h>
#include <linux/dma-mapping.h>
#include <linux/pci.h>

#define SWLBLK_CTRL_PAGE_SIZE	4096
#define SWLBLK_QUEUE_DEPTH	64
#define SWLBLK_MAX_SEGS		16
#define SWLBLK_SQ_BYTES		(SWLBLK_QUEUE_DEPTH * sizeof(struct swlblk_cmd))

struct swlblk_cmd {
	u8 opcode;
	u8 flags;
	u16 command_id;
	__le32 nsid;
	__le64 rsvd;
	__le64 prp1;
	__le64 prp2;
	__le32 cdw10[6];
};

struct swlblk_req {
	struct scatterlist *sg;
	int nents;
	u16 command_id;
};

struct swlblk_dev {
	struct pci_dev *pdev;
	struct swlblk_cmd *sq;
	dma_addr_t sq_dma;
};

static int swlblk_submit(struct swlblk_dev *d, struct swlblk_req *req);

static int swlblk_map_read(struct swlblk_dev *d, struct swlblk_req *req)
{
	struct device *dev = &d->pdev->dev;
	int count;

	/* swiotlb: sg=16 size=512..8K align=512 depth=64 -- a full queue of 16-segment reads, sector-aligned */
	count = dma_map_sg(dev, req->sg, req->nents, DMA_FROM_DEVICE);
	if (!count)
		return -EIO;
	if (swlblk_submit(d, req)) {
		/* bug: dma_unmap_sg takes the nents passed to dma_map_sg, not its result */
		dma_unmap_sg(dev, req->sg, count, DMA_FROM_DEVICE);
		return -EIO;
	}
	return 0;
}

static void swlblk_complete(struct swlblk_dev *d, struct swlblk_req *req)
{
	dma_unmap_sg(&d->pdev->dev, req->sg, req->nents, DMA_FROM_DEVICE);
}

static int swlblk_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct swlblk_dev *d;

	if (dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64)))
		return -ENODEV;
	dma_set_min_align_mask(&pdev->dev, SWLBLK_CTRL_PAGE_SIZE - 1);
	dma_set_max_seg_size(&pdev->dev, 0x10000);
	d = devm_kzalloc(&pdev->dev, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->pdev = pdev;
	d->sq = dmam_alloc_coherent(&pdev->dev, SWLBLK_SQ_BYTES, &d->sq_dma, GFP_KERNEL);
	if (!d->sq)
		return -ENOMEM;
	return 0;
}
