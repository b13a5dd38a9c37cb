/* SPDX-License-Identifier: MPL-2.0 */
/* errors.c - names for the PT_E* codes. */
#include <ptkit/types.h>

const char *pt_strerror(int err)
{
	switch (err) {
	case PT_OK: return "PT_OK: success";
	case PT_EINVAL: return "PT_EINVAL: invalid argument";
	case PT_EALIGN: return "PT_EALIGN: address or length not aligned";
	case PT_ERANGE: return "PT_ERANGE: outside the table's address space";
	case PT_EPERM: return "PT_EPERM: kernel half is read-only through a user table";
	case PT_EEXIST: return "PT_EEXIST: already mapped";
	case PT_ENOENT: return "PT_ENOENT: nothing mapped";
	case PT_ENOMEM: return "PT_ENOMEM: out of frames";
	case PT_EBUSY: return "PT_EBUSY: kernel table still shared by user tables";
	case PT_ECORRUPT: return "PT_ECORRUPT: table invariant broken";
	default: return "unknown ptkit error";
	}
}
