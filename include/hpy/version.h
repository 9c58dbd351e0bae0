/* The HPy release whose API and ABI these headers implement (not the
 * hpy-build version: that is hpy_build.__version__). */
#ifndef _HPY_VERSION_H
#define _HPY_VERSION_H
#define HPY_VERSION "0.9.0"
#define HPY_GIT_REVISION "f611473"
#endif
