/* SPDX-License-Identifier: MPL-2.0 */
/*
 * wp_atomic.h - C11 atomics as specified stubs for the WP proof of the
 * entry layer (entry.c).  Include before any ptkit header: it stands in for
 * <stdatomic.h>, whose Frama-C version has no contracts.
 *
 * Each stub's contract is what the C11 operation does to the one object it
 * is given, seen by the thread that holds the node's lock (the proofs are
 * of that thread's view): a load returns the object, a store writes it, an
 * exchange does both, a compare-exchange stores `desired` only if the
 * object equals `*expected` and otherwise writes the object into
 * `*expected`.  The weak compare-exchange may also fail spuriously, and
 * the hardware's walker may set accessed/dirty bits in a PTE between two
 * of the lock holder's accesses: its failure branch says the object then
 * holds its old value with some of the format's hardware bits (HW) added.
 * Memory orders do not change the value, only what other threads see:
 * they are arguments the contracts ignore.
 *
 * The stubs (named in tests/wp/README.md): atomic_load_explicit and
 * atomic_store_explicit as plain accesses (macros), wp_exchange_u64,
 * wp_cas_weak_u64, wp_cas_weak_u32, wp_fetch_add_u64, wp_fetch_sub_u64.
 */
#ifndef PTKIT_TESTS_WP_ATOMIC_H
#define PTKIT_TESTS_WP_ATOMIC_H

#define __FC_STDATOMIC /* Frama-C's own <stdatomic.h>: skipped */
/* Frama-C ignores the _Atomic qualifier (its <stdatomic.h> does this too):
 * an atomic object is a plain one to which only the stubs below apply. */
#define _Atomic
#include <stdbool.h>
#include <stdint.h>

typedef enum {
	memory_order_relaxed,
	memory_order_consume,
	memory_order_acquire,
	memory_order_release,
	memory_order_acq_rel,
	memory_order_seq_cst
} memory_order;

/* The hardware bits a walker may set in a PTE (x86-64: A and D). */
#define WP_ATOMIC_HW_BITS 0x60

/*@ requires \valid(obj);
    assigns *obj \from v;
    ensures \result == \old(*obj) && *obj == v;
*/
uint64_t wp_exchange_u64(_Atomic uint64_t *obj, uint64_t v, memory_order mo);

/* b is a with some hardware bits added (the walker's only writes). */
/*@ predicate wp_hw_only(integer a, integer b) =
      (a & ~WP_ATOMIC_HW_BITS) == (b & ~WP_ATOMIC_HW_BITS) && (a & ~b) == 0;
*/

/* The value compared is the object as the walker left it: the old value,
 * maybe with hardware bits added. */
/*@ requires \valid(obj) && \valid(expected) && \separated(obj, expected);
    assigns *obj, *expected;
    ensures \result ==> wp_hw_only(\old(*obj), \old(*expected)) && *obj == desired &&
                        *expected == \old(*expected);
    ensures !\result ==> wp_hw_only(\old(*obj), *obj) && *expected == *obj;
*/
bool wp_cas_weak_u64(_Atomic uint64_t *obj, uint64_t *expected, uint64_t desired,
		     memory_order ok, memory_order fail);

/*@ requires \valid(obj) && \valid(expected) && \separated(obj, expected);
    assigns *obj, *expected;
    ensures \result ==> \old(*obj) == \old(*expected) && *obj == desired &&
                        *expected == \old(*expected);
    ensures !\result ==> *obj == \old(*obj) && *expected == \old(*obj);
*/
bool wp_cas_weak_u32(_Atomic uint32_t *obj, uint32_t *expected, uint32_t desired,
		     memory_order ok, memory_order fail);

/* A load or a store is, in the value it reads or writes, a plain access. */
#define atomic_load_explicit(obj, mo) (*(obj))
#define atomic_store_explicit(obj, v, mo) ((void)(*(obj) = (v)))
#define atomic_exchange_explicit(obj, v, mo) wp_exchange_u64(obj, v, mo)
/* Only two sizes are compare-exchanged: PTEs and node locks.  The size test
 * is a constant: the other branch is dead code. */
#define atomic_compare_exchange_weak_explicit(obj, exp, v, ok, fail)                 \
	(sizeof(*(obj)) == 8 ?                                                        \
	 wp_cas_weak_u64((uint64_t *)(obj), (uint64_t *)(exp), v, ok, fail) :         \
	 wp_cas_weak_u32((uint32_t *)(obj), (uint32_t *)(exp), (uint32_t)(v), ok, fail))
#define atomic_fetch_add_explicit(obj, v, mo) wp_fetch_add_u64(obj, v, mo)
#define atomic_fetch_sub_explicit(obj, v, mo) wp_fetch_sub_u64(obj, v, mo)

/*@ requires \valid(obj);
    assigns *obj \from *obj, v;
    ensures \result == \old(*obj) && *obj == (uint64_t)(\old(*obj) + v);
*/
uint64_t wp_fetch_add_u64(_Atomic uint64_t *obj, uint64_t v, memory_order mo);

/*@ requires \valid(obj);
    assigns *obj \from *obj, v;
    ensures \result == \old(*obj) && *obj == (uint64_t)(\old(*obj) - v);
*/
uint64_t wp_fetch_sub_u64(_Atomic uint64_t *obj, uint64_t v, memory_order mo);

#endif
