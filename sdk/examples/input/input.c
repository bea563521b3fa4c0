/* SPDX-License-Identifier: MIT */
/*
 * virtio-input keyboard (virtio 1.2 section 5.8), an out-of-tree example
 * plugin built only against the installed SDK.
 *
 * Key events come from a FIFO (or character device) named by the JSON key
 * "source", one event per line: "<type> <code> <value>" in decimal or 0x
 * hex, e.g. "1 30 1" (EV_KEY, KEY_A, pressed) then "0 0 0" (SYN_REPORT).
 * Events are handed to the guest one per eventq buffer, whole reports at a
 * time: a report (the events up to and including a SYN_REPORT) is kept
 * until the guest has buffers for it, and when the backlog is full a new
 * report is dropped whole, never a part of one (virtio 1.2,
 * 5.8.6 device operation).
 *
 * What the driver sends on the statusq (LED changes) is returned to it
 * and, if "status_out" names a file, appended there as lines of the same
 * format.
 *
 * Threads: the source is read on the event-loop thread, the queues are
 * served on the dispatch thread; the host holds this device's callback lock
 * around both, so the state below needs no lock of its own.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/input.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_input.h>

#include <hvd/iov.h>
#include <hvd/plugin.h>

#define EVENTQ  0
#define STATUSQ 1

/* The keys of a PC keyboard with its media keys. */
#define KBD_KEY_FIRST KEY_ESC
#define KBD_KEY_LAST  KEY_MICMUTE

/* Events of one report at most, and events waiting for guest buffers. */
#define REPORT_MAX      64
#define BACKLOG_MAX     512
#define SOURCE_LINE_MAX 80

#define DEFAULT_NAME "hvisor virtio keyboard"
/* devids: BUS_VIRTUAL with an unassigned vendor; nothing matches on them. */
#define DEVIDS_VENDOR  0x0001
#define DEVIDS_PRODUCT 0x0001
#define DEVIDS_VERSION 0x0001

struct kbd {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	const char *name;
	const char *serial; /* NULL: none */

	int source_fd; /* -1 when no source */
	struct hvd_watch *watch;
	char line[SOURCE_LINE_MAX + 1];
	size_t line_len;
	bool line_too_long;

	int status_fd; /* -1 when status events are not recorded */

	bool active; /* DRIVER_OK seen since the last reset */
	struct virtio_input_config cfg;

	/* The report being read from the source. */
	struct virtio_input_event report[REPORT_MAX];
	unsigned report_len;
	bool report_overflow;

	/* Complete reports waiting for eventq buffers (a ring). */
	struct virtio_input_event backlog[BACKLOG_MAX];
	unsigned backlog_head, backlog_len;
	unsigned long dropped_reports;
};

/* ---- Configuration space ------------------------------------------------ */

static void bitmap_set(uint8_t *bitmap, unsigned bit)
{
	bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* Bytes of the bitmap up to its highest set bit (the `size` to report). */
static uint8_t bitmap_size(const uint8_t *bitmap, unsigned bytes)
{
	while (bytes > 0 && bitmap[bytes - 1] == 0)
		bytes--;
	return (uint8_t)bytes;
}

static uint8_t set_string(struct virtio_input_config *cfg, const char *s)
{
	size_t len = strnlen(s, sizeof cfg->u.string);
	memcpy(cfg->u.string, s, len);
	return (uint8_t)len;
}

/* Fill `size` and `u` for the driver's current select/subsel; size stays 0
 * for every combination this device does not support (5.8.5). */
static void config_select(struct kbd *k)
{
	struct virtio_input_config *cfg = &k->cfg;

	memset(&cfg->u, 0, sizeof cfg->u);
	cfg->size = 0;
	switch (cfg->select) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		if (cfg->subsel == 0)
			cfg->size = set_string(cfg, k->name);
		break;
	case VIRTIO_INPUT_CFG_ID_SERIAL:
		if (cfg->subsel == 0 && k->serial)
			cfg->size = set_string(cfg, k->serial);
		break;
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (cfg->subsel == 0) {
			cfg->u.ids.bustype = htole16(BUS_VIRTUAL);
			cfg->u.ids.vendor = htole16(DEVIDS_VENDOR);
			cfg->u.ids.product = htole16(DEVIDS_PRODUCT);
			cfg->u.ids.version = htole16(DEVIDS_VERSION);
			cfg->size = sizeof cfg->u.ids;
		}
		break;
	case VIRTIO_INPUT_CFG_EV_BITS:
		if (cfg->subsel == EV_KEY) {
			for (unsigned c = KBD_KEY_FIRST; c <= KBD_KEY_LAST; c++)
				bitmap_set(cfg->u.bitmap, c);
		} else if (cfg->subsel == EV_LED) {
			bitmap_set(cfg->u.bitmap, LED_NUML);
			bitmap_set(cfg->u.bitmap, LED_CAPSL);
			bitmap_set(cfg->u.bitmap, LED_SCROLLL);
		}
		cfg->size = bitmap_size(cfg->u.bitmap, sizeof cfg->u.bitmap);
		break;
	default: /* UNSET, PROP_BITS (none), ABS_INFO (no axes), unknown */
		break;
	}
}

static void kbd_config_read(void *state, uint32_t offset, void *buf,
			    uint32_t len)
{
	struct kbd *k = state;
	/* The host has checked offset + len <= sizeof cfg. */
	memcpy(buf, (const uint8_t *)&k->cfg + offset, len);
}

static void kbd_config_write(void *state, uint32_t offset, const void *buf,
			     uint32_t len)
{
	struct kbd *k = state;
	const uint8_t *bytes = buf;

	/* Only select (byte 0) and subsel (byte 1) are writable; a wider
	 * write covering other bytes changes just those two. */
	for (uint32_t i = 0; i < len; i++) {
		if (offset + i == 0)
			k->cfg.select = bytes[i];
		else if (offset + i == 1)
			k->cfg.subsel = bytes[i];
	}
	if (offset <= 1)
		config_select(k);
}

/* ---- Events to the guest ------------------------------------------------ */

/* Hand out backlog events while the guest has buffers. */
static void deliver(struct kbd *k)
{
	struct hvd_vq *vq = k->host->vq_get(k->dev, EVENTQ);
	struct hvd_chain *chain;
	bool pushed = false;

	if (!k->active || !vq)
		return;
	while (k->backlog_len > 0 && (chain = k->host->vq_pop(vq)) != NULL) {
		const struct virtio_input_event *ev =
			&k->backlog[k->backlog_head];

		if (chain->num_out != 0 || chain->in_bytes < sizeof *ev) {
			/* 5.8.6: eventq buffers MUST be writable and hold an
			 * event; anything else is a broken driver. */
			k->host->vq_push(chain, 0);
			k->host->needs_reset(k->dev,
					     "eventq buffer is not a writable "
					     "one that holds an event");
			break;
		}
		k->host->vq_push(chain, (uint32_t)hvd_chain_write(chain, 0, ev,
								  sizeof *ev));
		pushed = true;
		k->backlog_head = (k->backlog_head + 1) % BACKLOG_MAX;
		k->backlog_len--;
	}
	if (pushed)
		k->host->vq_notify(vq);
}

/* Move the finished report into the backlog, whole or not at all. */
static void commit_report(struct kbd *k)
{
	if (k->report_overflow ||
	    BACKLOG_MAX - k->backlog_len < k->report_len) {
		k->dropped_reports++;
		k->host->log(k->dev, HVD_LOG_WARN,
			     "input report of %u events dropped (%s); %lu "
			     "dropped so far",
			     k->report_len,
			     k->report_overflow ? "too long"
						: "the guest is not reading",
			     k->dropped_reports);
	} else {
		for (unsigned i = 0; i < k->report_len; i++) {
			unsigned slot = (k->backlog_head + k->backlog_len) %
					BACKLOG_MAX;
			k->backlog[slot] = k->report[i];
			k->backlog_len++;
		}
	}
	k->report_len = 0;
	k->report_overflow = false;
}

static bool event_supported(long type, long code, long value)
{
	if (type == EV_SYN)
		return code == SYN_REPORT && value == 0;
	if (type == EV_KEY)
		return code >= KBD_KEY_FIRST && code <= KBD_KEY_LAST &&
		       value >= 0 && value <= 2;
	return false;
}

/* One number of a source line, decimal or 0x hex (a leading 0 is not
 * octal: "010" is ten). Advances *p; false if there is none. */
static bool parse_number(const char **p, long *out)
{
	const char *s = *p + strspn(*p, " \t");
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!(base == 16 ? isxdigit((unsigned char)*s)
			 : isdigit((unsigned char)*s) || *s == '-'))
		return false;
	errno = 0;
	*out = strtol(s, &end, base);
	if (errno || end == s)
		return false;
	*p = end;
	return true;
}

/* One source line: "<type> <code> <value>", '#' comments, blank lines. */
static void parse_line(struct kbd *k, char *line)
{
	char *hash = strchr(line, '#');
	const char *p = line;
	long type, code, value;

	if (hash)
		*hash = '\0';
	if (strspn(line, " \t\r") == strlen(line))
		return;
	if (!parse_number(&p, &type) || !parse_number(&p, &code) ||
	    !parse_number(&p, &value) || p[strspn(p, " \t\r")] != '\0' ||
	    !event_supported(type, code, value)) {
		k->host->log(k->dev, HVD_LOG_WARN,
			     "source: ignoring '%s' (want '<type> <code> "
			     "<value>' of a SYN_REPORT or a key %d..%d)",
			     line, KBD_KEY_FIRST, KBD_KEY_LAST);
		return;
	}
	if (k->report_len == REPORT_MAX)
		k->report_overflow = true;
	else
		k->report[k->report_len++] = (struct virtio_input_event){
			.type = htole16((uint16_t)type),
			.code = htole16((uint16_t)code),
			.value = htole32((uint32_t)value),
		};
	if (type == EV_SYN)
		commit_report(k);
}

static void consume(struct kbd *k, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			k->line[k->line_len] = '\0';
			if (k->line_too_long)
				k->host->log(k->dev, HVD_LOG_WARN,
					     "source: ignoring a line longer "
					     "than %d bytes",
					     SOURCE_LINE_MAX);
			else
				parse_line(k, k->line);
			k->line_len = 0;
			k->line_too_long = false;
		} else if (k->line_len < SOURCE_LINE_MAX) {
			k->line[k->line_len++] = buf[i];
		} else {
			k->line_too_long = true;
		}
	}
}

static void source_readable(void *opaque, int fd, uint32_t events)
{
	struct kbd *k = opaque;
	char buf[512];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		consume(k, buf, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* A FIFO is opened read-write and never ends; a character
		 * device that hangs up has nothing more to say. */
		k->host->log(k->dev, HVD_LOG_WARN,
			     "source closed; no more key events");
		k->host->watch_remove(k->watch);
		k->watch = NULL;
	}
	deliver(k);
}

/* ---- Events from the guest ---------------------------------------------- */

static void record_status(struct kbd *k, const struct virtio_input_event *ev)
{
	char line[64];
	int n;

	if (k->status_fd < 0)
		return;
	n = snprintf(line, sizeof line, "%u %u %d\n", le16toh(ev->type),
		     le16toh(ev->code), (int32_t)le32toh(ev->value));
	/* A full pipe loses the record, never stalls the dispatch thread. */
	if (write(k->status_fd, line, (size_t)n) != n)
		k->host->log(k->dev, HVD_LOG_DEBUG, "status_out: short write");
}

static void serve_statusq(struct kbd *k, struct hvd_vq *vq)
{
	struct hvd_chain *chain;

	while ((chain = k->host->vq_pop(vq)) != NULL) {
		struct virtio_input_event ev;

		if (hvd_chain_read(chain, 0, &ev, sizeof ev) < sizeof ev) {
			k->host->vq_push(chain, 0);
			k->host->needs_reset(k->dev,
					     "statusq buffer shorter than an "
					     "event");
			break;
		}
		/* Recorded before the push: once the driver sees the buffer
		 * used, the record exists. */
		record_status(k, &ev);
		k->host->vq_push(chain, 0);
	}
	k->host->vq_notify(vq);
}

static void kbd_queue_notify(void *state, unsigned index)
{
	struct kbd *k = state;
	struct hvd_vq *vq = k->host->vq_get(k->dev, index);

	if (index == EVENTQ)
		deliver(k); /* new buffers: the backlog may go on */
	else if (vq)
		serve_statusq(k, vq);
}

/* ---- Lifecycle ---------------------------------------------------------- */

static int kbd_activate(void *state, uint64_t features)
{
	struct kbd *k = state;
	k->active = true;
	deliver(k);
	return 0;
}

static void kbd_reset(void *state)
{
	struct kbd *k = state;
	/* Keys pressed for the previous driver mean nothing to the next. */
	k->active = false;
	k->backlog_head = k->backlog_len = 0;
	k->report_len = 0;
	k->report_overflow = false;
	memset(&k->cfg, 0, sizeof k->cfg);
}

static void kbd_destroy(void *state)
{
	struct kbd *k = state;
	if (!k)
		return;
	if (k->watch)
		k->host->watch_remove(k->watch);
	if (k->source_fd >= 0)
		close(k->source_fd);
	if (k->status_fd >= 0)
		close(k->status_fd);
	free(k);
}

static int open_source(struct kbd *k, const char *path)
{
	struct stat st;

	/* Read-write: a FIFO then always has a writer (us) and never reads
	 * as ended between two producers. */
	k->source_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (k->source_fd < 0) {
		k->host->log(k->dev, HVD_LOG_ERROR, "source %s: %s", path,
			     strerror(errno));
		return -errno;
	}
	if (fstat(k->source_fd, &st) != 0 ||
	    !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		k->host->log(k->dev, HVD_LOG_ERROR,
			     "source %s: must be a FIFO or a character device",
			     path);
		return -EINVAL;
	}
	k->watch = k->host->watch_add(k->dev, k->source_fd, HVD_EV_IN,
				      source_readable, k);
	if (!k->watch) {
		k->host->log(k->dev, HVD_LOG_ERROR, "source %s: cannot watch",
			     path);
		return -EIO;
	}
	return 0;
}

static int kbd_create(struct hvd_device *dev, struct hvd_device_info *info,
		      void **state)
{
	const struct hvd_host_services *host = hvd_host(dev);
	static const char *const keys[] = {"source", "name", "serial",
					   "status_out", NULL};
	const char *source = NULL, *status_out = NULL;
	struct kbd *k;
	int err;

	if (host->cfg_check_keys(dev, keys))
		return -EINVAL;
	k = calloc(1, sizeof *k);
	if (!k)
		return -ENOMEM;
	k->dev = dev;
	k->host = host;
	k->source_fd = k->status_fd = -1;
	k->name = DEFAULT_NAME;
	/* -ENOENT (absent) keeps the default; -EINVAL was logged. */
	if (host->cfg_string(dev, "name", &k->name) == -EINVAL ||
	    host->cfg_string(dev, "serial", &k->serial) == -EINVAL ||
	    host->cfg_string(dev, "source", &source) == -EINVAL ||
	    host->cfg_string(dev, "status_out", &status_out) == -EINVAL) {
		err = -EINVAL;
		goto fail;
	}
	if (source && (err = open_source(k, source)) != 0)
		goto fail;
	if (status_out) {
		k->status_fd = open(status_out,
				    O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
					    O_CLOEXEC | O_NOCTTY,
				    0644);
		if (k->status_fd < 0) {
			err = -errno;
			host->log(dev, HVD_LOG_ERROR, "status_out %s: %s",
				  status_out, strerror(errno));
			goto fail;
		}
	}
	info->num_queues = 2;
	info->queue_max_size = 64;
	info->config_size = sizeof(struct virtio_input_config);
	info->features = 0; /* 5.8.3: no feature bits */
	*state = k;
	host->log(dev, HVD_LOG_INFO, "keyboard '%s', events from %s", k->name,
		  source ? source : "nowhere");
	return 0;
fail:
	kbd_destroy(k);
	return err;
}

static const struct hvd_device_ops kbd_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = kbd_create,
	.destroy = kbd_destroy,
	.activate = kbd_activate,
	.reset = kbd_reset,
	.config_read = kbd_config_read,
	.config_write = kbd_config_write,
	.queue_notify = kbd_queue_notify,
};

HVD_PLUGIN_DEFINE("input", VIRTIO_ID_INPUT,
		  "virtio-input keyboard fed "
		  "from a FIFO",
		  "1.0", &kbd_ops);
