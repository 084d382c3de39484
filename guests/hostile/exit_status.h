/*
 * The hostile guest's NL_HC_EXIT statuses, one per way of ending, so that a
 * results folder says what happened even when no record got through.
 * Only #defines: entry.S includes this file too.
 */
#ifndef NESTLAB_HOSTILE_EXIT_STATUS_H
#define NESTLAB_HOSTILE_EXIT_STATUS_H

#define HOSTILE_EXIT_OK              0x00 /* every check passed and the last step was not run */
#define HOSTILE_EXIT_CHECK_FAILED    0x01 /* a check failed; the report record counts them */
#define HOSTILE_EXIT_EXCEPTION       0x02 /* an exception outside any probe: a console line names it */
#define HOSTILE_EXIT_EPT12_RETURNED  0x03 /* L2 with EPT12 outside this VM's memory came back */
#define HOSTILE_EXIT_BAD_BOOT_PTR    0x7c /* RDI did not point at a boot-info structure we can read */
#define HOSTILE_EXIT_BAD_MAGIC       0x7d /* struct nl_guest_boot magic mismatch */
#define HOSTILE_EXIT_BAD_VERSION     0x7e /* struct nl_guest_boot version mismatch */
#define HOSTILE_EXIT_RETURNED        0x7f /* hostile_main returned, which it must never do */

#endif
