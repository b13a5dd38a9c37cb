/* SPDX-License-Identifier: MPL-2.0 */
/* errors.c - names for the PT_E* codes, and their errno values. */
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

/* Linux's errno numbers: the core has no <errno.h> (freestanding). */
enum {
	LINUX_EPERM = 1, LINUX_ENOENT = 2, LINUX_ENOMEM = 12, LINUX_EBUSY = 16,
	LINUX_EEXIST = 17, LINUX_EINVAL = 22, LINUX_ERANGE = 34, LINUX_EUCLEAN = 117,
};

int pt_errno(int err)
{
	switch (err) {
	case PT_OK: return 0;
	case PT_EINVAL:
	case PT_EALIGN: return -LINUX_EINVAL;
	case PT_ERANGE: return -LINUX_ERANGE;
	case PT_EPERM: return -LINUX_EPERM;
	case PT_EEXIST: return -LINUX_EEXIST;
	case PT_ENOENT: return -LINUX_ENOENT;
	case PT_ENOMEM: return -LINUX_ENOMEM;
	case PT_EBUSY: return -LINUX_EBUSY;
	case PT_ECORRUPT: return -LINUX_EUCLEAN;
	default: return -LINUX_EINVAL;
	}
}
