/* Hex digit decoding shared by the probe's protocol parsers (probe.c, seccomp.c). */
#ifndef SYSABI_HEX_H
#define SYSABI_HEX_H

/* Value of one hex digit, or -1 when c is not one. */
static inline int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
