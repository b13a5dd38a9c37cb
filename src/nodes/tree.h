/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tree.h - what every walk of one table needs to know of it: the tree of
 * nodes under one root, and the settings fixed when the table was made.
 * The table layer embeds it in struct pt_table; the entry and cursor
 * layers see only this.
 */
#ifndef PTKIT_SRC_TREE_H
#define PTKIT_SRC_TREE_H

#include <ptkit/table.h>

#include "flush/flush.h"

struct pt_tree {
	struct pt_phys *phys;
	uint64_t root_pa;
	uint32_t features;          /* PT_FEAT_*: the platform's and the table's */
	bool live;                  /* hardware may set A/D: rewrite atomically */
	enum pt_space space;
	struct pt_flush_sink sink;  /* where this table's batches deliver */
	/* Moves that relocated a node (pt_move), bumped before its cursor
	 * unlocks: a cursor that found its node before cannot trust where
	 * it is (design §6). */
	_Atomic uint32_t moves;
};

#endif
