/* Shorthands for test modules: a method whose body is one expression. */
#ifndef HPY_TEST_H
#define HPY_TEST_H

#include "hpy.h"

#define T_METH_O(NAME, EXPR)                                            \
    HPyDef_METH(NAME, #NAME, HPyFunc_O)                                 \
    static HPy NAME##_impl(HPyContext *ctx, HPy self, HPy arg)          \
    {                                                                   \
        (void)self;                                                     \
        return EXPR;                                                    \
    }

#define T_METH_N(NAME, EXPR)                                            \
    HPyDef_METH(NAME, #NAME, HPyFunc_VARARGS)                           \
    static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs) \
    {                                                                   \
        (void)self; (void)nargs;                                        \
        return EXPR;                                                    \
    }

#endif
