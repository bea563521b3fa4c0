/* SPDX-License-Identifier: MIT */
/*
 * virtio-input config space (virtio 1.2 section 5.8.5) and the events each
 * mode has. The driver writes select and subsel, then reads size and u;
 * size is 0 for every combination the device does not have.
 *
 * What Linux's virtio_input driver asks at probe (drivers/virtio/
 * virtio_input.c at 01b944fe, virtinput_probe): ID_NAME, ID_SERIAL,
 * ID_DEVIDS (used when size >= 8, else BUS_VIRTUAL), PROP_BITS, then
 * EV_BITS for EV_REP (only whether size is non-zero: auto-repeat) and for
 * each of EV_KEY, EV_REL, EV_ABS, EV_MSC, EV_SW, EV_LED, EV_SND (a type
 * with size 0 is absent), then ABS_INFO for every axis EV_ABS listed.
 *
 * keyboard: EV_KEY keys 1 (KEY_ESC) .. 248 (KEY_MICMUTE), EV_LED NumLock,
 * CapsLock, ScrollLock, EV_REP. tablet: EV_KEY BTN_LEFT, BTN_RIGHT,
 * BTN_MIDDLE, EV_REL REL_WHEEL, REL_HWHEEL, EV_ABS ABS_X, ABS_Y over
 * 0..INPUT_ABS_MAX. Neither has input properties.
 */
#include <endian.h>
#include <string.h>

#include "input.h"

#define KBD_KEY_FIRST KEY_ESC
#define KBD_KEY_LAST  KEY_MICMUTE

/* ID_DEVIDS: BUS_VIRTUAL, an unassigned vendor, product by mode. */
#define DEVIDS_VENDOR  0x0001
#define DEVIDS_VERSION 0x0001

static const uint16_t tablet_buttons[] = {BTN_LEFT, BTN_RIGHT, BTN_MIDDLE};
static const uint16_t tablet_wheels[] = {REL_WHEEL, REL_HWHEEL};

bool input_event_known(const struct input *in, uint16_t type, uint16_t code,
		       int32_t value)
{
	if (in->mode == INPUT_KEYBOARD)
		return type == EV_KEY && code >= KBD_KEY_FIRST &&
		       code <= KBD_KEY_LAST && value >= 0 && value <= 2;
	switch (type) {
	case EV_KEY:
		for (size_t i = 0; i < sizeof tablet_buttons / 2; i++)
			if (code == tablet_buttons[i])
				return value == 0 || value == 1;
		return false;
	case EV_REL:
		return code == REL_WHEEL || code == REL_HWHEEL;
	case EV_ABS:
		return (code == ABS_X || code == ABS_Y) && value >= 0 &&
		       value <= (int32_t)INPUT_ABS_MAX;
	default:
		return false;
	}
}

static void set_bit(struct virtio_input_config *cfg, unsigned bit)
{
	cfg->u.bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* The bitmap's bytes up to its highest set bit. */
static uint8_t bitmap_size(const struct virtio_input_config *cfg)
{
	unsigned n = sizeof cfg->u.bitmap;
	while (n && !cfg->u.bitmap[n - 1])
		n--;
	return (uint8_t)n;
}

static uint8_t set_string(struct virtio_input_config *cfg, const char *s)
{
	size_t len = strnlen(s, sizeof cfg->u.string);
	memcpy(cfg->u.string, s, len);
	return (uint8_t)len;
}

static void keyboard_bits(struct virtio_input_config *cfg)
{
	switch (cfg->subsel) {
	case EV_KEY:
		for (unsigned c = KBD_KEY_FIRST; c <= KBD_KEY_LAST; c++)
			set_bit(cfg, c);
		break;
	case EV_LED:
		set_bit(cfg, LED_NUML);
		set_bit(cfg, LED_CAPSL);
		set_bit(cfg, LED_SCROLLL);
		break;
	case EV_REP:
		set_bit(cfg, REP_DELAY);
		set_bit(cfg, REP_PERIOD);
		break;
	}
}

static void tablet_bits(struct virtio_input_config *cfg)
{
	switch (cfg->subsel) {
	case EV_KEY:
		for (size_t i = 0; i < sizeof tablet_buttons / 2; i++)
			set_bit(cfg, tablet_buttons[i]);
		break;
	case EV_REL:
		for (size_t i = 0; i < sizeof tablet_wheels / 2; i++)
			set_bit(cfg, tablet_wheels[i]);
		break;
	case EV_ABS:
		set_bit(cfg, ABS_X);
		set_bit(cfg, ABS_Y);
		break;
	}
}

/* Fill size and u for the current select / subsel. */
static void select_changed(struct input *in)
{
	struct virtio_input_config *cfg = &in->cfg;
	memset(&cfg->u, 0, sizeof cfg->u);
	cfg->size = 0;
	switch (cfg->select) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		if (!cfg->subsel)
			cfg->size = set_string(cfg, in->name);
		break;
	case VIRTIO_INPUT_CFG_ID_SERIAL:
		if (!cfg->subsel && in->serial)
			cfg->size = set_string(cfg, in->serial);
		break;
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (cfg->subsel)
			break;
		cfg->u.ids.bustype = htole16(BUS_VIRTUAL);
		cfg->u.ids.vendor = htole16(DEVIDS_VENDOR);
		cfg->u.ids.product =
			htole16(in->mode == INPUT_KEYBOARD ? 1 : 2);
		cfg->u.ids.version = htole16(DEVIDS_VERSION);
		cfg->size = sizeof cfg->u.ids;
		break;
	case VIRTIO_INPUT_CFG_EV_BITS:
		if (in->mode == INPUT_KEYBOARD)
			keyboard_bits(cfg);
		else
			tablet_bits(cfg);
		cfg->size = bitmap_size(cfg);
		break;
	case VIRTIO_INPUT_CFG_ABS_INFO:
		if (in->mode != INPUT_TABLET ||
		    (cfg->subsel != ABS_X && cfg->subsel != ABS_Y))
			break;
		cfg->u.abs.min = 0;
		cfg->u.abs.max = htole32(INPUT_ABS_MAX);
		cfg->size = sizeof cfg->u.abs;
		break;
	default: /* UNSET, PROP_BITS (none), unknown */
		break;
	}
}

void input_config_read(void *state, uint32_t offset, void *buf, uint32_t len)
{
	const struct input *in = state;
	/* The host checked offset + len against config_size. */
	memcpy(buf, (const uint8_t *)&in->cfg + offset, len);
}

void input_config_write(void *state, uint32_t offset, const void *buf,
			uint32_t len)
{
	struct input *in = state;
	const uint8_t *b = buf;
	/* Only select (byte 0) and subsel (byte 1) are writable. */
	for (uint32_t i = 0; i < len; i++) {
		if (offset + i == 0)
			in->cfg.select = b[i];
		else if (offset + i == 1)
			in->cfg.subsel = b[i];
	}
	if (offset <= 1)
		select_changed(in);
}
