/* SPDX-License-Identifier: MIT */
/*
 * swlnic: an example network driver for SWIOTLB Lens. It drives no real hardware: it shows the
 * DMA API patterns the analysis reads, and a few of the bugs it finds.
 */
#ifndef SWLNIC_H
#define SWLNIC_H

#include <linux/dma-mapping.h>
#include <linux/netdevice.h>
#include <linux/pci.h>

#define SWLNIC_RX_RING		1024
#define SWLNIC_TX_RING		256
#define SWLNIC_RX_BUF_SIZE	(2048 + NET_SKB_PAD)
#define SWLNIC_FW_SIZE		(300 * 1024)

enum swlnic_reg {
	SWLNIC_REG_CTRL,
	SWLNIC_REG_RX_BASE = 0x10,
	SWLNIC_REG_TX_BASE,
	SWLNIC_REG_FW_BASE,
	SWLNIC_REG_STATS_BASE,
};

/* what the device reads from the rings */
struct swlnic_desc {
	__le64 addr;
	__le32 len;
	__le32 flags;
};

struct swlnic_rxbuf {
	struct sk_buff *skb;
	dma_addr_t dma;
};

struct swlnic_txbuf {
	struct sk_buff *skb;
	dma_addr_t mapping;
	u32 len;
};

struct swlnic_ring {
	struct swlnic_desc *desc;
	dma_addr_t desc_dma;
	unsigned int head;
	unsigned int tail;
	unsigned int count;
};

struct swlnic_priv {
	struct pci_dev *pdev;
	struct net_device *ndev;
	void __iomem *regs;
	struct swlnic_ring rx;
	struct swlnic_ring tx;
	struct swlnic_rxbuf rxbufs[SWLNIC_RX_RING];
	struct swlnic_txbuf txbufs[SWLNIC_TX_RING];
	void *fw;
	dma_addr_t fw_dma;
	void *stats;
	dma_addr_t stats_dma;
};

#endif
