/* SPDX-License-Identifier: MPL-2.0 */
/*
 * engine_instance.h - compiles the whole engine for the format whose header
 * was included just before, and defines its struct pt_format.
 *
 * Usage (one small .c per format, as Linux's generic_pt does):
 *     #include "formats/x86_64.h"
 *     #define FMT_SYMBOL pt_format_x86_64
 *     #include "formats/engine_instance.h"
 */
#if !defined(FMT_SYMBOL) || !defined(FMT_LEVELS)
#error "include a format header, define FMT_SYMBOL, then include engine_instance.h"
#endif

/* Each layer's template includes the ones below it. */
#include "table/check_template.h"
#include "table/table_template.h"
#include "table/vm_template.h"

static int fmt_normalize_api(struct pt_prop p, uint32_t features, struct pt_prop *out)
{
	return fmt_prop_normalize(p, features, out);
}

static int fmt_encode_leaf_api(uint64_t pa, unsigned level, struct pt_prop p, bool tracked,
			       uint32_t features, uint64_t *pte)
{
	struct pt_prop norm;

	if (level < 1 || level > FMT_MAX_LEAF_LEVEL || !pte)
		return PT_EINVAL;
	if (fmt_prop_normalize(p, features, &norm))
		return PT_EINVAL;
	if (pa & (pt_level_size(level) - 1))
		return PT_EALIGN;
	if (pa >= FMT_PA_LIMIT)
		return PT_ERANGE;
	*pte = fmt_pte_leaf(pa, level, norm, tracked, features);
	return 0;
}

static uint64_t fmt_encode_table_api(uint64_t pa)
{
	return fmt_pte_table(pa);
}

static int fmt_decode_api(uint64_t pte, unsigned level, uint32_t features, uint64_t *pa,
			  struct pt_prop *p, bool *tracked)
{
	if (!fmt_pte_present(pte))
		return PT_DECODE_ABSENT;
	if (!fmt_pte_is_leaf(pte, level)) {
		if (pa)
			*pa = fmt_pte_table_pa(pte);
		return PT_DECODE_TABLE;
	}
	if (pa)
		*pa = fmt_pte_leaf_pa(pte, level);
	if (p)
		*p = fmt_pte_leaf_prop(pte, level, features);
	if (tracked)
		*tracked = fmt_pte_tracked(pte);
	return PT_DECODE_LEAF;
}

static int fmt_encode_marker_api(uint64_t value, uint64_t *pte)
{
	if (!pte || (value >> FMT_MARKER_BITS))
		return PT_EINVAL;
	*pte = fmt_pte_marker(value);
	return 0;
}

static bool fmt_decode_marker_api(uint64_t pte, uint64_t *value)
{
	if (!fmt_pte_is_marker(pte))
		return false;
	if (value)
		*value = fmt_pte_marker_value(pte);
	return true;
}

static const struct pt_format_ops engine_ops = {
	.table_init = table_init,
	.table_teardown = table_teardown,
	.query = table_query,
	.for_each = table_for_each,
	.check = table_check,
	.stats = table_stats,
	.release_subtree = table_release_subtree,
	.map_checked = table_map_checked,
	.map = table_map,
	.unmap = table_unmap,
	.protect = table_protect,
	.copy = table_copy,
	.harvest = table_harvest,
	.mark = table_mark,
	.query_marker = table_query_marker,
	.split = table_split,
	.move = table_move,
	.cursor_open = cursor_begin,
	.cursor_unlock = cursor_unlock,
	.cursor_query = cursor_query,
	.cursor_find = cursor_find,
	.cursor_map = cursor_map,
	.cursor_take_next = cursor_take_next,
	.cursor_protect_next = cursor_protect_next,
	.cursor_query_marker = cursor_query_marker,
	.cursor_mark = cursor_mark,
	.cursor_harvest = cursor_harvest,
};

const struct pt_format FMT_SYMBOL = {
	.name = FMT_NAME,
	.levels = FMT_LEVELS,
	.max_leaf_level = FMT_MAX_LEAF_LEVEL,
	.va_bits = FMT_VA_BITS,
	.user_end = FMT_USER_END,
	.kernel_start = FMT_KERNEL_START,
	.pa_limit = FMT_PA_LIMIT,
	.nr_sw_bits = FMT_NR_SW_BITS,
	.shared_kernel_root = FMT_SHARED_KERNEL_ROOT,
	.marker_bits = FMT_MARKER_BITS,
	.root_entries = FMT_ROOT_ENTRIES,
	.stage = FMT_STAGE,
	.normalize = fmt_normalize_api,
	.encode_leaf = fmt_encode_leaf_api,
	.encode_table = fmt_encode_table_api,
	.decode = fmt_decode_api,
	.encode_marker = fmt_encode_marker_api,
	.decode_marker = fmt_decode_marker_api,
	.ops = &engine_ops,
};
