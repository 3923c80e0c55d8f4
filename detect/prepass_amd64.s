#include "textflag.h"

// BROADCAST fills every byte of the vector register Y with the constant C.
#define BROADCAST(C, Y) MOVQ C, AX; MOVQ AX, X0; VPBROADCASTB X0, Y

// func indexCandidateAVX2(b []byte) int
//
// For i = 1, 33, 65, ... while i+32 <= len(b): compares the 32 bytes
// b[i:i+32] with '=', '%', '\\' and '&', and the 32 bytes before them,
// b[i-1:i+31], with 'g' and 'y' (after OR 0x20, so any case), '=' and NUL;
// returns i plus the index of the first byte where both hold, or -1.
TEXT ·indexCandidateAVX2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), DX

	BROADCAST($0x3d, Y1) // '='
	BROADCAST($0x25, Y2) // '%'
	BROADCAST($0x5c, Y3) // '\\'
	BROADCAST($0x26, Y4) // '&'
	BROADCAST($0x20, Y5) // the ASCII case bit
	BROADCAST($0x67, Y6) // 'g'
	BROADCAST($0x79, Y7) // 'y'
	VPXOR Y8, Y8, Y8 // NUL

	MOVQ $1, CX

loop:
	LEAQ 32(CX), R8
	CMPQ R8, DX
	JA   none
	VMOVDQU (SI)(CX*1), Y9    // b[i : i+32]
	VMOVDQU -1(SI)(CX*1), Y10 // b[i-1 : i+31]

	VPCMPEQB Y1, Y9, Y11
	VPCMPEQB Y2, Y9, Y12
	VPOR     Y12, Y11, Y11
	VPCMPEQB Y3, Y9, Y12
	VPOR     Y12, Y11, Y11
	VPCMPEQB Y4, Y9, Y12
	VPOR     Y12, Y11, Y11 // a trigger byte

	VPOR     Y5, Y10, Y13 // the byte before, lower case
	VPCMPEQB Y6, Y13, Y12
	VPCMPEQB Y7, Y13, Y14
	VPOR     Y14, Y12, Y12
	VPCMPEQB Y1, Y10, Y14
	VPOR     Y14, Y12, Y12
	VPCMPEQB Y8, Y10, Y14
	VPOR     Y14, Y12, Y12 // g, y, '=' or NUL before it

	VPAND     Y12, Y11, Y11
	VPMOVMSKB Y11, AX
	TESTL     AX, AX
	JNZ       found
	MOVQ      R8, CX
	JMP       loop

found:
	BSFL AX, AX
	ADDQ CX, AX
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET

none:
	MOVQ $-1, ret+24(FP)
	VZEROUPPER
	RET
