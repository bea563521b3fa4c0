/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2 section 2.7): the boundary between a hostile
 * guest and the device plugins.
 *
 * Rules this file keeps:
 *   - Guest-shared ring fields are only touched with single __atomic loads
 *     and stores of the field's width, so the compiler can neither tear nor
 *     repeat an access the guest may race with.
 *   - A descriptor is copied out of guest memory once; every check and use
 *     works on that copy (no double fetch).
 *   - Indices come from the guest and are validated before use; the used
 *     index is our own counter and is never read back.
 *   - A violation marks the queue broken and calls vq->fail() without the
 *     lock held, so the owner may call back into this file.
 *
 * The host is assumed little-endian (every hvisor host is), so virtio's
 * little-endian ring fields are used as they are.
 */
#include "virtqueue.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtqueue.c assumes a little-endian host"
#endif

/* Chains start with room for this many iovecs and double as needed. */
#define CHAIN_INITIAL_IOV 8u

/* Pushed chains of the initial size kept per queue for its next pops, so a
 * request costs no malloc/free (bench_net guest->tap 64 B, 8 alternating
 * rounds: median 1.02 of the veth reference against 0.98 with malloc).
 * Not under AddressSanitizer, which should see a plugin touching a chain
 * after pushing it. */
#if defined(__SANITIZE_ADDRESS__)
#define CHAIN_CACHE_MAX 0u
#else
#define CHAIN_CACHE_MAX 32u
#endif

/* What vq_pop() hands out. The plugin sees pub only; the rest is ours, and
 * head/in_bytes are kept privately so that a plugin scribbling on pub cannot
 * make vq_push() report a different buffer or length to the guest. */
struct vq_chain {
	struct hvd_chain pub; /* first: a struct hvd_chain * is a vq_chain * */
	uint32_t generation;  /* vq->generation when popped */
	uint16_t head;
	uint32_t in_bytes;
	uint64_t popped_ns;   /* for the latency histogram; 0: not counted */
	uint32_t counted_out; /* bytes_out added at pop, taken back on unpop */
	bool counted;         /* stats were on at pop: lat_sample advanced */
	unsigned cap;         /* iovecs allocated in iov[] */
	struct virtqueue *vq;
	struct vq_chain *next_free; /* in vq->chain_cache */
	struct iovec iov[];
};

/* kick_enabled and poll_quiet are written under the lock and also read
 * without it (vq_poll_due's fast path). */
static inline void set_flag(bool *flag, bool v)
{
	__atomic_store_n(flag, v, __ATOMIC_RELAXED);
}

/* ---- Guest-shared memory accessors -------------------------------------- */

static inline uint16_t ld16(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static inline uint16_t ld16_acquire(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static inline uint32_t ld32(const void *p)
{
	return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}

/* 64-bit hosts only (see the layout guards in hvd/plugin.h), so this is a
 * single plain load, not a libatomic call. */
static inline uint64_t ld64(const void *p)
{
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

static inline void st16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}

static inline void st32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

/* used_event lives right after the avail ring, avail_event right after the
 * used ring (virtio 1.2 2.7.6 / 2.7.8); vq_start mapped both. */
static uint16_t *used_event_ptr(struct virtqueue *vq)
{
	return (uint16_t *)&vq->avail->ring[vq->num];
}

static uint16_t *avail_event_ptr(struct virtqueue *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

/* True if moving the index from old to new_idx passed event, i.e. event is
 * in [old, new_idx) modulo 2^16 (the EVENT_IDX rule of virtio 1.2 2.7.10). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Copy one descriptor out of guest memory. Direct tables are 16-byte aligned
 * (vq_start checked), but nothing forces an indirect table to be, so an
 * unaligned one is copied byte by byte through a volatile pointer. */
static void load_desc(const uint8_t *p, struct vring_desc *d)
{
	if (((uintptr_t)p & 7) == 0) {
		d->addr = ld64(p);
		d->len = ld32(p + 8);
		d->flags = ld16(p + 12);
		d->next = ld16(p + 14);
	} else {
		const volatile uint8_t *v = (const volatile uint8_t *)p;
		uint8_t b[sizeof(*d)];

		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = v[i];
		memcpy(d, b, sizeof(*d));
	}
}

/* ---- Chain memory -------------------------------------------------------- */

/* Caller holds lock (both). */
static struct vq_chain *chain_get(struct virtqueue *vq)
{
	struct vq_chain *c = vq->chain_cache;
	if (c) {
		vq->chain_cache = c->next_free;
		vq->chain_cached--;
		return c;
	}
	c = malloc(sizeof(*c) + CHAIN_INITIAL_IOV * sizeof(struct iovec));
	if (c)
		c->cap = CHAIN_INITIAL_IOV;
	return c;
}

static void chain_put(struct virtqueue *vq, struct vq_chain *c)
{
	if (c->cap != CHAIN_INITIAL_IOV ||
	    vq->chain_cached == CHAIN_CACHE_MAX) {
		free(c);
		return;
	}
	c->next_free = vq->chain_cache;
	vq->chain_cache = c;
	vq->chain_cached++;
}

/* ---- Chain walking ------------------------------------------------------- */

/* Not a guest violation: vq_pop() returns NULL and leaves the entry
 * available, so the plugin can retry later. */
static const char walk_enomem[] = "out of memory";

struct walk {
	struct vq_chain *c;
	uint32_t n;       /* iovecs filled */
	uint32_t num_out; /* of which readable */
	uint64_t out_bytes, in_bytes;
	unsigned buffers; /* buffer descriptors seen, direct + indirect */
	bool seen_write;
};

/* Account one buffer descriptor (not one pointing at an indirect table).
 * A zero-length descriptor is accepted but yields no iovec and its address is
 * not checked: nothing will ever be read or written through it. It still
 * counts for the chain length and the readable/writable order. */
static const char *add_buffer(struct virtqueue *vq, struct walk *w,
			      const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;

	if (!writable && w->seen_write)
		return "readable descriptor after a writable one";
	w->seen_write |= writable;
	if (++w->buffers > VQ_MAX_CHAIN)
		return "descriptor chain too long";
	if (d->len == 0)
		return NULL;

	void *p = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!p)
		return "descriptor buffer outside guest RAM";
	if (d->len > UINT32_MAX - (w->out_bytes + w->in_bytes))
		return "descriptor chain larger than 4 GiB";

	if (w->n == w->c->cap) {
		/* n <= buffers <= VQ_MAX_CHAIN, so cap never exceeds that. */
		unsigned cap = w->c->cap * 2;
		struct vq_chain *c =
			realloc(w->c, sizeof(*c) + cap * sizeof(struct iovec));
		if (!c)
			return walk_enomem;
		c->cap = cap;
		w->c = c;
	}
	w->c->iov[w->n].iov_base = p;
	w->c->iov[w->n].iov_len = d->len;
	w->n++;
	if (writable) {
		w->in_bytes += d->len;
	} else {
		w->num_out++;
		w->out_bytes += d->len;
	}
	return NULL;
}

/* Walk the chain starting at head (already checked < num). On success *out
 * is a filled chain; otherwise *out is NULL and the return value is the
 * violation (or walk_enomem). Caller holds lock. */
static const char *walk_chain(struct virtqueue *vq, uint16_t head,
			      struct vq_chain **out)
{
	const uint8_t *table = (const uint8_t *)vq->desc;
	unsigned size = vq->num;
	/* A chain without loops visits each descriptor at most once, so more
	 * visits than entries in the table means a loop. */
	unsigned limit = size < VQ_MAX_CHAIN ? size : VQ_MAX_CHAIN;
	unsigned visited = 0, idx = head;
	bool in_indirect = false;
	const char *why = NULL;
	struct walk w = {0};

	*out = NULL;
	w.c = chain_get(vq);
	if (!w.c)
		return walk_enomem;

	for (;;) {
		struct vring_desc d;

		if (++visited > limit) {
			why = in_indirect ? "loop in an indirect table"
					  : "descriptor loop or overlong chain";
			break;
		}
		load_desc(table + (size_t)idx * sizeof(d), &d);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* Its WRITE flag is ignored (virtio 1.2 2.7.5.3.2);
			 * it must end the direct chain, so the walk ends with
			 * the indirect table. */
			if (in_indirect) {
				why = "indirect descriptor in an indirect "
				      "table";
				break;
			}
			if (!vq->indirect) {
				why = "indirect descriptor not negotiated";
				break;
			}
			if (d.flags & VRING_DESC_F_NEXT) {
				why = "indirect descriptor with NEXT";
				break;
			}
			if (d.len == 0 || d.len % sizeof(d) != 0 ||
			    d.len > VQ_MAX_CHAIN * sizeof(d)) {
				why = "bad indirect table length";
				break;
			}
			table = guest_mem_ptr(vq->mem, d.addr, d.len);
			if (!table) {
				why = "indirect table outside guest RAM";
				break;
			}
			size = limit = d.len / sizeof(d);
			visited = 0;
			idx = 0;
			in_indirect = true;
			continue;
		}

		why = add_buffer(vq, &w, &d);
		if (why || !(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= size) {
			why = "descriptor next index out of range";
			break;
		}
		idx = d.next;
	}

	if (why) {
		chain_put(vq, w.c);
		return why;
	}
	struct vq_chain *c = w.c;
	c->pub = (struct hvd_chain){
		.vq = (struct hvd_vq *)vq,
		.head = head,
		.num_out = w.num_out,
		.num_in = w.n - w.num_out,
		.out_bytes = (uint32_t)w.out_bytes,
		.in_bytes = (uint32_t)w.in_bytes,
		.iov = c->iov,
	};
	c->generation = vq->generation;
	c->head = head;
	c->in_bytes = (uint32_t)w.in_bytes;
	c->vq = vq;
	*out = c;
	return NULL;
}

/* ---- Life cycle ---------------------------------------------------------- */

void vq_init(struct virtqueue *vq, unsigned index, uint16_t num_max,
	     void *owner, void (*fail)(void *, const char *),
	     void (*interrupt)(void *))
{
	memset(vq, 0, sizeof(*vq));
	pthread_mutex_init(&vq->lock, NULL);
	vq->index = index;
	vq->num_max = num_max;
	vq->kick_enabled = true;
	vq->owner = owner;
	vq->fail = fail;
	vq->interrupt = interrupt;
}

/* The queue owns its lock and its spare chains; chains in use belong to
 * whoever popped them until pushed (the plugin ABI requires that before
 * destroy()). */
void vq_destroy(struct virtqueue *vq)
{
	while (vq->chain_cache) {
		struct vq_chain *c = vq->chain_cache;
		vq->chain_cache = c->next_free;
		free(c);
	}
	vq->chain_cached = 0;
	pthread_mutex_destroy(&vq->lock);
}

static const char *map_rings(struct virtqueue *vq, const struct guest_mem *mem)
{
	uint16_t num = vq->num;

	if (!mem)
		return "no guest memory";
	if (num == 0)
		return "queue size is zero";
	if (num > vq->num_max)
		return "queue size above QueueNumMax";
	if (num & (num - 1))
		return "queue size not a power of two";
	/* Alignment table of virtio 1.2 2.7. */
	if (vq->desc_gpa & 15)
		return "descriptor table not 16-byte aligned";
	if (vq->avail_gpa & 1)
		return "available ring not 2-byte aligned";
	if (vq->used_gpa & 3)
		return "used ring not 4-byte aligned";
	/* Sizes include used_event / avail_event: EVENT_IDX may be on. */
	vq->desc = guest_mem_ptr(mem, vq->desc_gpa, 16u * num);
	if (!vq->desc)
		return "descriptor table outside guest RAM";
	vq->avail = guest_mem_ptr(mem, vq->avail_gpa, 6u + 2u * num);
	if (!vq->avail)
		return "available ring outside guest RAM";
	vq->used = guest_mem_ptr(mem, vq->used_gpa, 6u + 8u * num);
	if (!vq->used)
		return "used ring outside guest RAM";
	return NULL;
}

int vq_start(struct virtqueue *vq, const struct guest_mem *mem, bool event_idx,
	     bool indirect, const char **why)
{
	const char *err = NULL;

	pthread_mutex_lock(&vq->lock);
	/* A queue the driver left unready is simply unused: not an error. */
	if (!vq->ready)
		goto out;
	err = map_rings(vq, mem);
	if (err) {
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		vq->started = false;
		goto out;
	}
	if (vq->started) {
		/* Restarted without a reset: chains from before are stale. */
		vq->generation++;
		vq->inflight = 0;
		vq->last_popped = NULL;
	}
	vq->mem = mem;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->last_avail = 0;
	vq->avail_shadow = 0;
	vq->used_idx = 0;
	/* The rings start empty, so "last signalled at 0" is exact: the
	 * driver's used_event is honoured from the first notify on
	 * (virtio 1.2 section 2.7.10). */
	vq->signalled_used = 0;
	vq->signalled_valid = true;
	vq->pushed_since_notify = false;
	set_flag(&vq->kick_enabled, true);
	vq->poll_seen = 0;
	vq->poll_progress = false;
	set_flag(&vq->poll_quiet, false);
	/* broken is left alone: only a reset clears a violation. */
	vq->started = true;
out:
	pthread_mutex_unlock(&vq->lock);
	if (err) {
		if (why)
			*why = err;
		return -EINVAL;
	}
	return 0;
}

void vq_break(struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	vq->broken = true;
	pthread_mutex_unlock(&vq->lock);
}

void vq_reset(struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	vq->generation++; /* chains still held by plugins become stale */
	vq->started = false;
	vq->broken = false;
	vq->ready = false;
	vq->num = 0;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->event_idx = false;
	vq->indirect = false;
	vq->mem = NULL;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->last_avail = 0;
	vq->avail_shadow = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->pushed_since_notify = false;
	set_flag(&vq->kick_enabled, true);
	vq->poll_seen = 0;
	vq->poll_progress = false;
	set_flag(&vq->poll_quiet, false);
	vq->last_popped = NULL;
	vq->inflight = 0;
	pthread_mutex_unlock(&vq->lock);
}

/* ---- Services ------------------------------------------------------------ */

/* The queue whose queue_notify this thread runs between vq_poll_begin and
 * vq_poll_end: its pops are the call's progress. A plugin worker popping
 * the same queue meanwhile is not (it serves what it pops itself; counted,
 * it kept the dispatch thread calling a writer's queue at every look). */
static __thread struct virtqueue *notifying;

/* Caller holds lock. Returns a chain, or NULL with *why set on a violation
 * (NULL *why: nothing to pop, or out of memory). */
static struct vq_chain *pop_locked(struct virtqueue *vq, const char **why)
{
	struct vq_chain *c;

	*why = NULL;
	if (!vq->started || vq->broken)
		return NULL;
	/* avail->idx is read again only once what it said is consumed: the
	 * driver writes that line with every buffer it adds, so each read is
	 * a cache miss while it does (vhost keeps the same shadow; bench_net
	 * guest->tap 64 B, 8 alternating rounds: 0.94-1.05 of the veth
	 * reference, median 1.03, against 0.85-1.02, median 0.98). Acquire:
	 * the ring entries and descriptors the driver wrote before publishing
	 * the index are read after it, also those taken later from the
	 * shadow. Read once. */
	uint16_t avail_idx = vq->avail_shadow;
	if (avail_idx == vq->last_avail) {
		avail_idx = ld16_acquire(&vq->avail->idx);
		vq->avail_shadow = avail_idx;
	}
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return NULL;
	if (pending > vq->num) {
		*why = "available index moved by more than the queue size";
		return NULL;
	}
	uint16_t head = ld16(&vq->avail->ring[vq->last_avail & (vq->num - 1)]);
	if (head >= vq->num) {
		*why = "available ring head out of range";
		return NULL;
	}
	*why = walk_chain(vq, head, &c);
	if (*why == walk_enomem)
		*why = NULL; /* entry stays available; not the guest's fault */
	if (!c)
		return NULL;

	vq->last_avail++;
	vq->inflight++;
	vq->last_popped = &c->pub;
	if (notifying == vq)
		vq->poll_popped++;
	c->popped_ns = 0;
	c->counted_out = 0;
	c->counted = stats_enabled();
	if (c->counted) {
		/* Latency of one request in STATS_LAT_SAMPLE: two clock
		 * reads cost ~150 ns a request here (bench_vq_stats). */
		if (vq->lat_sample++ % STATS_LAT_SAMPLE == 0)
			c->popped_ns = stats_now_ns();
		c->counted_out = c->pub.out_bytes;
		stats_add(&vq->stats.bytes_out, c->counted_out);
	}
	if (vq->event_idx && vq->kick_enabled && !vq->poll_quiet) {
		/* Ask for a kick when the driver adds past what we consumed.
		 * The full fence orders this store before our next read of
		 * avail->idx; the driver does the mirror image (store idx,
		 * fence, read avail_event), so a buffer added now is either
		 * seen by our next pop or kicked. */
		st16(avail_event_ptr(vq), vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return c;
}

struct hvd_chain *vq_pop(struct virtqueue *vq)
{
	const char *why;

	pthread_mutex_lock(&vq->lock);
	struct vq_chain *c = pop_locked(vq, &why);
	if (why) {
		vq->broken = true;
		stats_add(&vq->stats.errors, 1);
	}
	void (*fail)(void *, const char *) = vq->fail;
	void *owner = vq->owner;
	pthread_mutex_unlock(&vq->lock);

	/* Without the lock: the owner may reset or query the queue. */
	if (why && fail)
		fail(owner, why);
	return c ? &c->pub : NULL;
}

void vq_unpop(struct hvd_chain *chain)
{
	if (!chain)
		return;
	struct vq_chain *c = (struct vq_chain *)chain;
	struct virtqueue *vq = c->vq;

	pthread_mutex_lock(&vq->lock);
	/* Only the latest pop can be undone by stepping last_avail back;
	 * anything else is a plugin bug and the chain is just dropped. With
	 * EVENT_IDX, avail_event stays one past last_avail, which still makes
	 * the driver kick on its next buffer. */
	if (vq->started && c->generation == vq->generation &&
	    vq->last_popped == chain) {
		vq->last_avail--;
		vq->inflight--;
		vq->last_popped = NULL;
		if (notifying == vq)
			vq->poll_popped--;
		stats_add(&vq->stats.bytes_out, -(uint64_t)c->counted_out);
		/* The next pop of this chain is the one sampled, or not,
		 * as if this pop never happened (blk unpops every write it
		 * finds when it tries to serve a kick inline). */
		if (c->counted)
			vq->lat_sample--;
	}
	chain_put(vq, c);
	pthread_mutex_unlock(&vq->lock);
}

void vq_push(struct hvd_chain *chain, uint32_t written)
{
	if (!chain)
		return;
	struct vq_chain *c = (struct vq_chain *)chain;
	struct virtqueue *vq = c->vq;

	pthread_mutex_lock(&vq->lock);
	/* A chain from before a reset must not touch the (new) rings. */
	if (vq->started && c->generation == vq->generation) {
		/* Never claim more than the chain can hold. */
		if (written > c->in_bytes)
			written = c->in_bytes;
		struct vring_used_elem *e =
			&vq->used->ring[vq->used_idx & (vq->num - 1)];
		st32(&e->id, c->head);
		st32(&e->len, written);
		/* Release store: the element is visible before the index
		 * that hands it to the driver (same guarantee as a release
		 * fence before a plain store here, and visible to TSan). */
		/* Counted before the driver can see it: a guest that saw
		 * its completion then asks for stats finds it counted. */
		if (stats_enabled()) {
			stats_add(&vq->stats.requests, 1);
			stats_add(&vq->stats.bytes_in, written);
			if (c->popped_ns)
				stats_latency(&vq->stats,
					      stats_now_ns() - c->popped_ns);
		}
		__atomic_store_n(&vq->used->idx, ++vq->used_idx,
				 __ATOMIC_RELEASE);
		vq->pushed_since_notify = true;
		vq->inflight--;
		if (vq->last_popped == chain)
			vq->last_popped = NULL;
	}
	chain_put(vq, c);
	pthread_mutex_unlock(&vq->lock);
}

void vq_notify(struct virtqueue *vq)
{
	bool fire = false;

	pthread_mutex_lock(&vq->lock);
	if (vq->started && vq->pushed_since_notify) {
		vq->pushed_since_notify = false;
		/* Full fence: our used->idx store must be visible before we
		 * read the driver's suppression state, mirroring the driver
		 * (store flags/used_event, fence, read used->idx). Otherwise
		 * both sides could miss each other and the driver sleeps. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (vq->event_idx) {
			uint16_t ev = ld16(used_event_ptr(vq));

			fire = !vq->signalled_valid ||
			       need_event(ev, vq->used_idx, vq->signalled_used);
			vq->signalled_used = vq->used_idx;
			vq->signalled_valid = true;
		} else {
			fire = !(ld16(&vq->avail->flags) &
				 VRING_AVAIL_F_NO_INTERRUPT);
		}
	}
	void (*interrupt)(void *) = vq->interrupt;
	void *owner = vq->owner;
	if (fire && interrupt && stats_enabled())
		stats_add(&vq->stats.interrupts, 1);
	pthread_mutex_unlock(&vq->lock);

	if (fire && interrupt)
		interrupt(owner);
}

/* Publish whether the driver should kick: the plugin's wish and the
 * dispatch thread's (poll_quiet) together. Caller holds lock. */
static void publish_kicks(struct virtqueue *vq)
{
	bool enable = vq->kick_enabled && !vq->poll_quiet;
	if (vq->started && !vq->broken) {
		if (vq->event_idx) {
			/* The driver ignores used->flags with EVENT_IDX; not
			 * updating avail_event is how kicks are turned off. */
			if (enable)
				st16(avail_event_ptr(vq), vq->last_avail);
		} else {
			/* We are the only writer of used->flags. */
			st16(&vq->used->flags,
			     enable ? 0 : VRING_USED_F_NO_NOTIFY);
		}
		/* Order the enable before the caller's vq_has_work() re-check,
		 * which closes the race with a buffer added meanwhile. */
		if (enable)
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
}

void vq_kick_enable(struct virtqueue *vq, int enable)
{
	pthread_mutex_lock(&vq->lock);
	set_flag(&vq->kick_enabled, enable != 0);
	publish_kicks(vq);
	pthread_mutex_unlock(&vq->lock);
}

void vq_poll_unquiet(struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	/* Test and clear in one atomic step, as set_flag would store it
	 * (GCC 12 under -fsanitize=address,undefined misreports that store
	 * here as an overflow). */
	if (__atomic_exchange_n(&vq->poll_quiet, false, __ATOMIC_RELAXED))
		publish_kicks(vq);
	pthread_mutex_unlock(&vq->lock);
}

int vq_has_work(struct virtqueue *vq)
{
	int work = 0;

	pthread_mutex_lock(&vq->lock);
	if (vq->started && !vq->broken)
		work = ld16_acquire(&vq->avail->idx) != vq->last_avail;
	pthread_mutex_unlock(&vq->lock);
	return work;
}

bool vq_poll_due(struct virtqueue *vq, bool quiet)
{
	bool due = false;

	/* A plugin that turned kicks off is serving the queue and comes back
	 * to it itself: not due, and known without the lock. Taking it at
	 * every look made the dispatch thread sleep on it while net's event
	 * loop popped and pushed, and every push then paid a futex wake-up
	 * (bench_net guest->tap 64 B, perf: ~8% of the event-loop thread in
	 * the wake, ~20% of the dispatch thread in this function). A stale
	 * "off" only skips one look; the last look before the dispatch
	 * thread sleeps follows vq_poll_unquiet, which takes the lock. */
	if ((!quiet || __atomic_load_n(&vq->poll_quiet, __ATOMIC_RELAXED)) &&
	    !__atomic_load_n(&vq->kick_enabled, __ATOMIC_RELAXED))
		return false;
	pthread_mutex_lock(&vq->lock);
	if (quiet && vq->started && !vq->broken && !vq->poll_quiet) {
		/* Watched from now on: no kicks needed until
		 * vq_poll_unquiet, before the dispatch thread sleeps. */
		set_flag(&vq->poll_quiet, true);
		publish_kicks(vq);
	}
	if (vq->started && !vq->broken && vq->kick_enabled) {
		/* Acquire, as in pop: what the index publishes is read
		 * after it (by the queue_notify this may lead to). */
		uint16_t avail = ld16_acquire(&vq->avail->idx);
		due = avail != vq->last_avail &&
		      (avail != vq->poll_seen || vq->poll_progress);
		vq->poll_seen = avail;
	}
	pthread_mutex_unlock(&vq->lock);
	return due;
}

void vq_poll_begin(struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	vq->poll_popped = 0;
	pthread_mutex_unlock(&vq->lock);
	notifying = vq;
}

void vq_poll_end(struct virtqueue *vq)
{
	notifying = NULL;
	pthread_mutex_lock(&vq->lock);
	vq->poll_progress = vq->poll_popped > 0;
	pthread_mutex_unlock(&vq->lock);
}
