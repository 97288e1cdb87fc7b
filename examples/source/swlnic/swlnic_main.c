// SPDX-License-Identifier: MIT
/*
 * swlnic: example driver for SWIOTLB Lens (see swlnic.h). The annotations in the comments tell
 * what the source cannot: how deep the rings are, where buffers live, the machine.
 *
 * swiotlb-file: ram=16G cpus=4 cmdline="swiotlb=4096"
 */
#include "swlnic.h"

static const char swlnic_doc[] = "each buffer goes through dma_map_single(dev, buf, len, dir)";

static int swlnic_alloc_ring(struct swlnic_priv *priv, struct swlnic_ring *ring, unsigned int count)
{
	struct device *dev = &priv->pdev->dev;

	ring->count = count;
	ring->desc = dma_alloc_coherent(dev, sizeof(struct swlnic_desc) * count, &ring->desc_dma, GFP_KERNEL);
	if (!ring->desc)
		return -ENOMEM;
	return 0;
}

static void swlnic_free_ring(struct swlnic_priv *priv, struct swlnic_ring *ring)
{
	dma_free_coherent(&priv->pdev->dev, sizeof(struct swlnic_desc) * ring->count, ring->desc, ring->desc_dma);
}

static int swlnic_rx_refill(struct swlnic_priv *priv)
{
	struct swlnic_ring *rx = &priv->rx;
	struct swlnic_rxbuf *buf = &priv->rxbufs[rx->tail];
	struct sk_buff *skb;

	skb = netdev_alloc_skb(priv->ndev, SWLNIC_RX_BUF_SIZE);
	if (!skb)
		return -ENOMEM;
	/* swiotlb: depth=1024 -- the whole RX ring is posted to the device */
	buf->dma = dma_map_single(&priv->pdev->dev, skb->data, SWLNIC_RX_BUF_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(&priv->pdev->dev, buf->dma)) {
		dev_kfree_skb(skb);
		return -ENOMEM;
	}
	buf->skb = skb;
	rx->desc[rx->tail].addr = cpu_to_le64(buf->dma);
	rx->tail = (rx->tail + 1) % SWLNIC_RX_RING;
	return 0;
}

#if 0
/* the first refill path, kept for reference: page-sized buffers */
static int swlnic_rx_refill_page(struct swlnic_priv *priv, struct page *page)
{
	return dma_map_page(&priv->pdev->dev, page, 0, PAGE_SIZE, DMA_FROM_DEVICE);
}
#endif

static void swlnic_rx_one(struct swlnic_priv *priv, unsigned int i, unsigned int len)
{
	struct swlnic_rxbuf *buf = &priv->rxbufs[i];

	dma_sync_single_for_cpu(&priv->pdev->dev, buf->dma, SWLNIC_RX_BUF_SIZE, DMA_FROM_DEVICE);
	dma_unmap_single(&priv->pdev->dev, buf->dma, SWLNIC_RX_BUF_SIZE, DMA_FROM_DEVICE);
	skb_put(buf->skb, len);
	netif_receive_skb(buf->skb);
	buf->skb = NULL;
}

static netdev_tx_t swlnic_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct swlnic_priv *priv = netdev_priv(ndev);
	struct swlnic_ring *tx = &priv->tx;
	struct swlnic_txbuf *buf = &priv->txbufs[tx->head];
	dma_addr_t mapping;

	/* swiotlb: size=64..1514 depth=256 where=high -- socket buffers come from anywhere; these sit above 4 GiB */
	mapping = dma_map_single(&priv->pdev->dev, skb->data, skb->len, DMA_TO_DEVICE);
	if (dma_mapping_error(&priv->pdev->dev, mapping))
		return NETDEV_TX_BUSY;
	buf->mapping = mapping;
	buf->len = skb->len;
	buf->skb = skb;
	tx->desc[tx->head].addr = cpu_to_le64(mapping);
	tx->head = (tx->head + 1) % SWLNIC_TX_RING;
	return NETDEV_TX_OK;
}

static int swlnic_xmit_frag(struct swlnic_priv *priv, const skb_frag_t *frag, dma_addr_t *addr)
{
	*addr = dma_map_page(&priv->pdev->dev, skb_frag_page(frag), skb_frag_off(frag), skb_frag_size(frag), DMA_TO_DEVICE);
	return dma_mapping_error(&priv->pdev->dev, *addr);
}

static void swlnic_tx_clean(struct swlnic_priv *priv, unsigned int i)
{
	struct swlnic_txbuf *buf = &priv->txbufs[i];

	/* bug: the buffer was mapped DMA_TO_DEVICE */
	dma_unmap_single(&priv->pdev->dev, buf->mapping, buf->len, DMA_FROM_DEVICE);
	dev_kfree_skb_any(buf->skb);
	buf->skb = NULL;
}

static int swlnic_load_firmware(struct swlnic_priv *priv, const void *image)
{
	memcpy(priv->fw, image, SWLNIC_FW_SIZE);
	priv->fw_dma = dma_map_single(&priv->pdev->dev, priv->fw, SWLNIC_FW_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(&priv->pdev->dev, priv->fw_dma))
		return -ENOMEM;
	writeq(priv->fw_dma, priv->regs + SWLNIC_REG_FW_BASE);
	dma_unmap_single(&priv->pdev->dev, priv->fw_dma, SWLNIC_FW_SIZE, DMA_TO_DEVICE);
	return 0;
}

static void swlnic_start_stats(struct swlnic_priv *priv)
{
	/* the device writes its counters here for as long as it runs; nothing unmaps it */
	priv->stats_dma = dma_map_page(&priv->pdev->dev, virt_to_page(priv->stats), 0, PAGE_SIZE, DMA_FROM_DEVICE);
	writeq(priv->stats_dma, priv->regs + SWLNIC_REG_STATS_BASE);
}

static int swlnic_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct swlnic_priv *priv;
	int err;

	/* the MAC's address generator is 32 bits wide */
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (err)
		return err;
	priv = devm_kzalloc(&pdev->dev, sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return -ENOMEM;
	priv->pdev = pdev;
	err = swlnic_alloc_ring(priv, &priv->rx, SWLNIC_RX_RING);
	if (err)
		return err;
	err = swlnic_alloc_ring(priv, &priv->tx, SWLNIC_TX_RING);
	if (err) {
		swlnic_free_ring(priv, &priv->rx);
		return err;
	}
	pci_set_drvdata(pdev, priv);
	return 0;
}
