/* SPDX-License-Identifier: MIT */
/*
 * Viewer input to the input plugin: an RFB KeyEvent carries an X keysym,
 * turned into the evdev key of a US keyboard (the guest applies its own
 * layout and the viewer's Shift: 'A' and 'a' are both KEY_A); a
 * PointerEvent carries a position on the scanout and a button mask, turned
 * into a tablet's EV_ABS X/Y scaled to 0..INPUT_ABS_MAX, BTN_LEFT/MIDDLE/
 * RIGHT changes and wheel steps. Each event becomes one datagram of whole
 * reports (plugins/input/input_record.h). Runs on the backend's thread.
 *
 * Keysym values: X11 keysymdef.h as libvncserver's rfb/keysym.h gives
 * them; RFB button mask bits: RFC 6143 section 7.5.5 (bit 0 left, 1
 * middle, 2 right, 3/4 wheel up/down, 5/6 wheel left/right as viewers
 * send them).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/input-event-codes.h>
#include <rfb/keysym.h>

#include "input_record.h"
#include "vnc.h"

/* Printable ASCII keysyms (== their character): both symbols of a key. */
static const struct {
	char sym[3];
	uint16_t key;
} ascii_keys[] = {
	{"aA", KEY_A},          {"bB", KEY_B},          {"cC", KEY_C},
	{"dD", KEY_D},          {"eE", KEY_E},          {"fF", KEY_F},
	{"gG", KEY_G},          {"hH", KEY_H},          {"iI", KEY_I},
	{"jJ", KEY_J},          {"kK", KEY_K},          {"lL", KEY_L},
	{"mM", KEY_M},          {"nN", KEY_N},          {"oO", KEY_O},
	{"pP", KEY_P},          {"qQ", KEY_Q},          {"rR", KEY_R},
	{"sS", KEY_S},          {"tT", KEY_T},          {"uU", KEY_U},
	{"vV", KEY_V},          {"wW", KEY_W},          {"xX", KEY_X},
	{"yY", KEY_Y},          {"zZ", KEY_Z},          {"1!", KEY_1},
	{"2@", KEY_2},          {"3#", KEY_3},          {"4$", KEY_4},
	{"5%", KEY_5},          {"6^", KEY_6},          {"7&", KEY_7},
	{"8*", KEY_8},          {"9(", KEY_9},          {"0)", KEY_0},
	{"-_", KEY_MINUS},      {"=+", KEY_EQUAL},      {"[{", KEY_LEFTBRACE},
	{"]}", KEY_RIGHTBRACE}, {";:", KEY_SEMICOLON},  {"'\"", KEY_APOSTROPHE},
	{"`~", KEY_GRAVE},      {"\\|", KEY_BACKSLASH}, {",<", KEY_COMMA},
	{".>", KEY_DOT},        {"/?", KEY_SLASH},      {"  ", KEY_SPACE},
};

/* Function, cursor, modifier and keypad keysyms. */
static const struct {
	uint32_t sym;
	uint16_t key;
} special_keys[] = {
	{XK_BackSpace, KEY_BACKSPACE},
	{XK_Tab, KEY_TAB},
	{XK_ISO_Left_Tab, KEY_TAB},
	{XK_Return, KEY_ENTER},
	{XK_Escape, KEY_ESC},
	{XK_Delete, KEY_DELETE},
	{XK_Insert, KEY_INSERT},
	{XK_Home, KEY_HOME},
	{XK_End, KEY_END},
	{XK_Page_Up, KEY_PAGEUP},
	{XK_Page_Down, KEY_PAGEDOWN},
	{XK_Left, KEY_LEFT},
	{XK_Up, KEY_UP},
	{XK_Right, KEY_RIGHT},
	{XK_Down, KEY_DOWN},
	{XK_Shift_L, KEY_LEFTSHIFT},
	{XK_Shift_R, KEY_RIGHTSHIFT},
	{XK_Control_L, KEY_LEFTCTRL},
	{XK_Control_R, KEY_RIGHTCTRL},
	{XK_Alt_L, KEY_LEFTALT},
	{XK_Alt_R, KEY_RIGHTALT},
	{XK_ISO_Level3_Shift, KEY_RIGHTALT},
	{XK_Meta_L, KEY_LEFTMETA},
	{XK_Meta_R, KEY_RIGHTMETA},
	{XK_Super_L, KEY_LEFTMETA},
	{XK_Super_R, KEY_RIGHTMETA},
	{XK_Menu, KEY_COMPOSE},
	{XK_Caps_Lock, KEY_CAPSLOCK},
	{XK_Num_Lock, KEY_NUMLOCK},
	{XK_Scroll_Lock, KEY_SCROLLLOCK},
	{XK_Print, KEY_SYSRQ},
	{XK_Pause, KEY_PAUSE},
	{XK_KP_Enter, KEY_KPENTER},
	{XK_KP_Add, KEY_KPPLUS},
	{XK_KP_Subtract, KEY_KPMINUS},
	{XK_KP_Multiply, KEY_KPASTERISK},
	{XK_KP_Divide, KEY_KPSLASH},
	{XK_KP_Decimal, KEY_KPDOT},
	{XK_KP_0, KEY_KP0},
	{XK_KP_1, KEY_KP1},
	{XK_KP_2, KEY_KP2},
	{XK_KP_3, KEY_KP3},
	{XK_KP_4, KEY_KP4},
	{XK_KP_5, KEY_KP5},
	{XK_KP_6, KEY_KP6},
	{XK_KP_7, KEY_KP7},
	{XK_KP_8, KEY_KP8},
	{XK_KP_9, KEY_KP9},
};

/* F1..F12 are consecutive keysyms but not consecutive keys. */
static const uint16_t f_keys[12] = {
	KEY_F1, KEY_F2, KEY_F3, KEY_F4,  KEY_F5,  KEY_F6,
	KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12,
};

uint16_t vnc_keysym_to_key(uint32_t sym)
{
	if (sym > ' ' - 1 && sym < 0x7f) {
		for (size_t i = 0; i < sizeof ascii_keys / sizeof ascii_keys[0];
		     i++)
			if ((uint8_t)ascii_keys[i].sym[0] == sym ||
			    (uint8_t)ascii_keys[i].sym[1] == sym)
				return ascii_keys[i].key;
		return 0;
	}
	if (sym >= XK_F1 && sym <= XK_F12)
		return f_keys[sym - XK_F1];
	for (size_t i = 0; i < sizeof special_keys / sizeof special_keys[0];
	     i++)
		if (special_keys[i].sym == sym)
			return special_keys[i].key;
	return 0;
}

struct report {
	struct virtio_input_event ev[INPUT_RECORDS_MAX];
	unsigned n;
};

static void add(struct report *r, uint16_t type, uint16_t code, int32_t value)
{
	r->ev[r->n++] = (struct virtio_input_event){
		.type = htole16(type),
		.code = htole16(code),
		.value = htole32((uint32_t)value),
	};
}

/* Close the report with SYN_REPORT and send it to every input device; a
 * device that is not there (yet) or stays full loses it, logged once per
 * streak. */
static void send_report(struct vnc *v, struct report *r)
{
	add(r, EV_SYN, SYN_REPORT, 0);
	for (unsigned i = 0; i < v->ninputs; i++) {
		if (sendto(v->input_fd, r->ev, r->n * sizeof r->ev[0],
			   MSG_NOSIGNAL,
			   (const struct sockaddr *)&v->input_addr[i],
			   sizeof v->input_addr[i]) >= 0) {
			v->input_warned[i] = false;
			continue;
		}
		if (!v->input_warned[i])
			v->gpu->host->log(v->gpu->dev, HVD_LOG_WARN,
					  "vnc: input %s: %s; viewer input to "
					  "it is lost until it works",
					  v->input_addr[i].sun_path,
					  strerror(errno));
		v->input_warned[i] = true;
	}
}

void vnc_key_event(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
	struct vnc_view *view = cl->screen->screenData;
	uint16_t key = vnc_keysym_to_key(sym);
	if (!key)
		return;
	struct report r = {.n = 0};
	add(&r, EV_KEY, key, down ? 1 : 0);
	send_report(view->vnc, &r);
}

/* A position on a screen of `size` pixels, on the tablet's axis. */
static int32_t scale(int pos, int size)
{
	if (pos < 0 || size < 2)
		return 0;
	if (pos >= size)
		pos = size - 1;
	return (int32_t)((uint64_t)pos * INPUT_ABS_MAX / (uint64_t)(size - 1));
}

void vnc_pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
	static const uint16_t buttons[3] = {BTN_LEFT, BTN_MIDDLE, BTN_RIGHT};
	/* Mask bits 3..6 and the wheel step each press makes. */
	static const struct {
		uint16_t axis;
		int32_t step;
	} wheel[4] = {{REL_WHEEL, 1},
		      {REL_WHEEL, -1},
		      {REL_HWHEEL, -1},
		      {REL_HWHEEL, 1}};
	struct vnc_view *view = cl->screen->screenData;
	struct report r = {.n = 0};
	add(&r, EV_ABS, ABS_X, scale(x, cl->screen->width));
	add(&r, EV_ABS, ABS_Y, scale(y, cl->screen->height));
	for (int b = 0; b < 3; b++)
		if ((mask ^ view->buttons) & 1 << b)
			add(&r, EV_KEY, buttons[b], mask >> b & 1);
	for (int b = 0; b < 4; b++)
		if (mask & ~view->buttons & 1 << (b + 3))
			add(&r, EV_REL, wheel[b].axis, wheel[b].step);
	view->buttons = mask;
	send_report(view->vnc, &r);
}
