/* SPDX-License-Identifier: MIT */
/*
 * hvisor_call(code, arg0, arg1): the zone-0 kernel's entry into the
 * hypervisor (docs/hvisor-interface.md). In the test build (HVISOR_FAKE)
 * every call goes to the in-kernel fake hypervisor (fake.c) instead, so the
 * module can be exercised on any kernel that is not running under hvisor.
 */
#ifndef HVISOR_KMOD_HYPERCALL_H
#define HVISOR_KMOD_HYPERCALL_H

#include <linux/types.h>

#define HVISOR_HC_INIT_VIRTIO      0
#define HVISOR_HC_FINISH_REQ       1
#define HVISOR_HC_START_ZONE       2
#define HVISOR_HC_SHUTDOWN_ZONE    3
#define HVISOR_HC_ZONE_LIST        4
#define HVISOR_HC_IVC_INFO         5
#define HVISOR_HC_CONFIG_CHECK     6
#define HVISOR_HC_SET_BOOT_MODE    8
#define HVISOR_HC_GET_ECAM_BASE    9
#define HVISOR_HC_DEASSERT_IRQ     11 /* current LoongArch: (zone, irq) */
#define HVISOR_HC_CLEAR_INJECT_IRQ 20
#define HVISOR_HC_GET_VIRTIO_IRQ   86

#ifdef HVISOR_FAKE

long hvisor_fake_call(unsigned long code, unsigned long arg0,
		      unsigned long arg1);

static inline long hvisor_call(unsigned long code, unsigned long arg0,
			       unsigned long arg1)
{
	return hvisor_fake_call(code, arg0, arg1);
}

#elif defined(CONFIG_ARM64)

static inline long hvisor_call(unsigned long code, unsigned long arg0,
			       unsigned long arg1)
{
	register unsigned long x0 asm("x0") = code;
	register unsigned long x1 asm("x1") = arg0;
	register unsigned long x2 asm("x2") = arg1;

	asm volatile("hvc #0x4856" : "+r"(x0) : "r"(x1), "r"(x2) : "memory");
	return (long)x0;
}

#elif defined(CONFIG_RISCV)

static inline long hvisor_call(unsigned long code, unsigned long arg0,
			       unsigned long arg1)
{
	register unsigned long a0 asm("a0") = code;
	register unsigned long a1 asm("a1") = arg0;
	register unsigned long a2 asm("a2") = arg1;
	register unsigned long a7 asm("a7") = 0x114514;

	/* SBI-style: the hypervisor's result comes back in a1. */
	asm volatile("ecall"
		     : "+r"(a0), "+r"(a1)
		     : "r"(a2), "r"(a7)
		     : "memory");
	return (long)a1;
}

#elif defined(CONFIG_LOONGARCH)

static inline long hvisor_call(unsigned long code, unsigned long arg0,
			       unsigned long arg1)
{
	register unsigned long a0 asm("$a0") = code;
	register unsigned long a1 asm("$a1") = arg0;
	register unsigned long a2 asm("$a2") = arg1;

	asm volatile("hvcl 0" : "+r"(a0) : "r"(a1), "r"(a2) : "memory");
	return (long)a0;
}

#elif defined(CONFIG_X86_64)

static inline long hvisor_call(unsigned long code, unsigned long arg0,
			       unsigned long arg1)
{
	long ret;

	asm volatile("vmcall"
		     : "=a"(ret)
		     : "a"(code), "D"(arg0), "S"(arg1)
		     : "memory");
	return ret;
}

#else
#error "hvisor.ko: no hypercall for this architecture"
#endif

#endif
