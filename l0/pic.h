#ifndef NESTLAB_L0_PIC_H
#define NESTLAB_L0_PIC_H
/* Mask every line of both legacy PICs. */
void pic_mask_all(void);
#endif
