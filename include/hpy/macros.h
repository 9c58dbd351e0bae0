/* Convenience macros of the HPy 0.9 API. */
#ifndef HPY_MACROS_H
#define HPY_MACROS_H

/* HPy_New(ctx, cls, &point) with point of any struct type: the cast to
 * void ** lives here, not at every call site. */
#define HPy_New(ctx, cls, data) (_HPy_New((ctx), (cls), ((void **)(data))))

/* In a tp_richcompare: return the result of comparing two C values. */
#define HPy_RETURN_RICHCOMPARE(ctx, val1, val2, op)                     \
    do {                                                                \
        bool _hpy_cmp = false; /* HPy_FatalError returns to the compiler */ \
        switch (op) {                                                   \
        case HPy_EQ: _hpy_cmp = ((val1) == (val2)); break;              \
        case HPy_NE: _hpy_cmp = ((val1) != (val2)); break;              \
        case HPy_LT: _hpy_cmp = ((val1) < (val2)); break;               \
        case HPy_GT: _hpy_cmp = ((val1) > (val2)); break;               \
        case HPy_LE: _hpy_cmp = ((val1) <= (val2)); break;              \
        case HPy_GE: _hpy_cmp = ((val1) >= (val2)); break;              \
        default:                                                        \
            HPy_FatalError(ctx, "invalid HPy_RichCmpOp");               \
        }                                                               \
        return HPy_Dup(ctx, _hpy_cmp ? ctx->h_True : ctx->h_False);     \
    } while (0)

/* Release the GIL around code that does not touch Python objects. */
#define HPy_BEGIN_LEAVE_PYTHON(context)                                 \
    {                                                                   \
        HPyThreadState _token = HPy_LeavePythonExecution(context);
#define HPy_END_LEAVE_PYTHON(context)                                   \
        HPy_ReenterPythonExecution(context, _token);                    \
    }

#define HPyLong_FromPid HPyLong_FromLong
#define HPyLong_AsPid HPyLong_AsLong

#define HPyAPI_UNUSED _HPy_UNUSED static inline

/* The shape an HPyType_HELPERS(TYPE, SHAPE) type was declared with. */
#define SHAPE(TYPE) ((HPyType_BuiltinShape)TYPE##_SHAPE)

#endif /* HPY_MACROS_H */
