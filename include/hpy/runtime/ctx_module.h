/* Kept at HPy 0.9's path so sources that include it directly still build;
 * what it declares there is part of hpy.h here. */
#ifndef _HPY_COMPAT_HPY_RUNTIME_CTX_MODULE_H
#define _HPY_COMPAT_HPY_RUNTIME_CTX_MODULE_H
#include "hpy.h"
#endif
