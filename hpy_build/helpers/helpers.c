/* HPyHelpers_AddType and HPyHelpers_PackArgsAndKeywords.
 *
 * Written against the public HPy API only: the same file is compiled into
 * CPython-ABI and universal-ABI extensions.
 */
#include "hpy.h"

/* Creates a type from `hpyspec` and stores it as attribute `name` of `obj`
 * (usually a module). Returns 1 on success, 0 with an exception set. */
HPyAPI_HELPER int
HPyHelpers_AddType(HPyContext *ctx, HPy obj, const char *name,
                   HPyType_Spec *hpyspec, HPyType_SpecParam *params)
{
    int failed;
    HPy h_type = HPyType_FromSpec(ctx, hpyspec, params);
    if (HPy_IsNull(h_type))
        return 0;
    failed = HPy_SetAttr_s(ctx, obj, name, h_type) < 0;
    HPy_Close(ctx, h_type);
    return !failed;
}

/* Turns vectorcall-style arguments (positionals, then the values of the
 * keywords named in `kwnames`) into a tuple and a dict for tp_call-style
 * APIs. A part that is empty comes out as HPy_NULL. The outputs are written
 * only on success. Returns 1 on success, 0 with an exception set. */
HPyAPI_HELPER int
HPyHelpers_PackArgsAndKeywords(HPyContext *ctx, const HPy *args, size_t nargs,
                               HPy kwnames, HPy *out_pos_args, HPy *out_kwd)
{
    HPy pos_args = HPy_NULL, kwd = HPy_NULL;
    HPy_ssize_t n_kw = 0, i;

    if (out_pos_args == NULL || out_kwd == NULL) {
        HPyErr_SetString(ctx, ctx->h_SystemError, out_pos_args == NULL
                         ? "argument 'out_pos_args' must not be NULL"
                         : "argument 'out_kwd' must not be NULL");
        return 0;
    }
    if (!HPy_IsNull(kwnames)) {
        n_kw = HPy_Length(ctx, kwnames);
        if (n_kw < 0)
            return 0;
    }
    if (n_kw > 0) {
        kwd = HPyDict_New(ctx);
        if (HPy_IsNull(kwd))
            return 0;
        for (i = 0; i < n_kw; i++) {
            int failed;
            HPy key = HPy_GetItem_i(ctx, kwnames, i);
            if (HPy_IsNull(key))
                goto error;
            failed = HPy_SetItem(ctx, kwd, key, args[nargs + (size_t)i]) < 0;
            HPy_Close(ctx, key);
            if (failed)
                goto error;
        }
    }
    if (nargs > 0) {
        /* HPyTuple_FromArray does not write to the array; 0.9's signature
         * just lacks the const. */
        pos_args = HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
        if (HPy_IsNull(pos_args))
            goto error;
    }
    *out_pos_args = pos_args;
    *out_kwd = kwd;
    return 1;

error:
    if (!HPy_IsNull(kwd))
        HPy_Close(ctx, kwd);
    return 0;
}
