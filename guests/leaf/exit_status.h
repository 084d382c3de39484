/*
 * The leaf guest's NL_HC_EXIT statuses.  Each failure has its own value so
 * that a results folder says which check failed even when no record got
 * through.  Only #defines: entry.S includes this file too.
 */
#ifndef NESTLAB_LEAF_EXIT_STATUS_H
#define NESTLAB_LEAF_EXIT_STATUS_H

#define LEAF_EXIT_OK           0x00
#define LEAF_EXIT_CHECK_FAILED 0x01 /* a workload check failed; the report record says which */
#define LEAF_EXIT_BAD_BOOT_PTR 0x7c /* RDI did not point at a boot-info structure we can read */
#define LEAF_EXIT_BAD_MAGIC    0x7d /* struct nl_guest_boot magic mismatch */
#define LEAF_EXIT_BAD_VERSION  0x7e /* struct nl_guest_boot version mismatch */
#define LEAF_EXIT_RETURNED     0x7f /* leaf_main returned, which it must never do */

#endif
