/* hpy.h: the one header an HPy extension includes.
 *
 * The build system defines exactly one of HPY_ABI_CPYTHON, HPY_ABI_UNIVERSAL
 * or HPY_ABI_HYBRID (hpy_build.toolchain.abi.compile_options does). The source code is
 * the same in every ABI; only what the API calls compile to differs.
 */
#ifndef HPy_H
#define HPy_H
#ifdef __cplusplus
extern "C" {
#endif

#define HPY_ABI_VERSION 0
#define HPY_ABI_VERSION_MINOR 0
#define HPY_ABI_TAG "hpy0"

#if defined(HPY_ABI_CPYTHON) + defined(HPY_ABI_UNIVERSAL) + defined(HPY_ABI_HYBRID) != 1
#  error "define exactly one of HPY_ABI_CPYTHON, HPY_ABI_UNIVERSAL, HPY_ABI_HYBRID (hpy_build sets it for you)"
#endif

#if defined(HPY_ABI_CPYTHON)
#  define HPY_ABI "cpython"
#elif defined(HPY_ABI_HYBRID)
#  define HPY_ABI "hybrid"
#else
#  define HPY_ABI "universal"
#  if defined(Py_PYTHON_H)
#    error "It is forbidden to #include <Python.h> when targeting the HPy Universal ABI (here it came before hpy.h): the same binary must load on every CPython version and on PyPy. Remove the include, or build with --hpy-abi=hybrid (or cpython) to use the C API."
#  endif
#endif

#if defined(HPY_ABI_CPYTHON) || defined(HPY_ABI_HYBRID)
#  ifndef PY_SSIZE_T_CLEAN
#    define PY_SSIZE_T_CLEAN
#  endif
#  include <Python.h>
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#ifndef __cplusplus
#  include <stdbool.h>
#endif

/* ---- linkage -------------------------------------------------------- */

#ifdef __GNUC__
#  define _HPy_HIDDEN __attribute__((visibility("hidden")))
#  define _HPy_UNUSED __attribute__((unused))
#  define _HPy_NO_RETURN __attribute__((__noreturn__))
#else
#  define _HPy_HIDDEN
#  define _HPy_UNUSED
#  define _HPy_NO_RETURN
#endif
#define _HPy_UNUSED_ARG(x) x _HPy_UNUSED

#ifndef HPy_EXPORTED_SYMBOL
#  if defined(_WIN32) || defined(__CYGWIN__)
#    define HPy_EXPORTED_SYMBOL __declspec(dllexport)
#  else
#    define HPy_EXPORTED_SYMBOL __attribute__((visibility("default")))
#  endif
#endif
#ifdef __cplusplus
#  define HPy_EXPORTED_FUNC extern "C" HPy_EXPORTED_SYMBOL
#else
#  define HPy_EXPORTED_FUNC HPy_EXPORTED_SYMBOL
#endif

/* Public API functions: inline C-API calls (CPython ABI) or context calls. */
#if defined(__GNUC__) && !defined(HPY_ABI_CPYTHON)
/* Inlined even at -O0, so that the return address a context call leaves
 * (debug mode's creation site) is in the author's function. */
#  define HPyAPI_FUNC _HPy_UNUSED static inline __attribute__((always_inline))
#else
#  define HPyAPI_FUNC _HPy_UNUSED static inline
#endif
#define HPyAPI_INLINE_HELPER _HPy_UNUSED static inline
/* CPython implementations (ctx_*) shared by the CPython ABI and the runtime. */
#define HPyAPI_IMPL _HPy_HIDDEN
/* Helpers compiled into every extension (HPyArg_Parse, HPy_BuildValue, ...). */
#define HPyAPI_HELPER _HPy_HIDDEN

#ifdef __has_attribute
#  define _HPY_compiler_has_attribute(x) __has_attribute(x)
#else
#  define _HPY_compiler_has_attribute(x) 0
#endif

/* Calling a legacy function is a compile error in the universal ABI where
 * the compiler can say so (gcc, clang >= 14); other compilers let it pass. */
#if defined(HPY_ABI_UNIVERSAL) && _HPY_compiler_has_attribute(error)
#  define _HPY_LEGACY __attribute__((error("Cannot use legacy functions when targeting the HPy Universal ABI: functions that take or return a PyObject * need the C API, so build with --hpy-abi=hybrid (or cpython) to use them")))
#else
#  define _HPY_LEGACY
#endif

/* ---- handles -------------------------------------------------------- */

/* What _i means is the business of each runtime; 0 is NULL everywhere. */
typedef struct _HPy_s { intptr_t _i; } HPy;
typedef struct { intptr_t _i; } HPyField;
typedef struct { intptr_t _i; } HPyGlobal;
typedef struct { intptr_t _lst; } HPyListBuilder;
typedef struct { intptr_t _tup; } HPyTupleBuilder;
typedef struct { intptr_t _i; } HPyTracker;
typedef struct { intptr_t _i; } HPyThreadState;

#ifdef __cplusplus
#  define _hconv(h) HPy{(intptr_t)(h)}
#  define _hfconv(h) HPyField{(intptr_t)(h)}
#else
#  define _hconv(h) ((HPy){(intptr_t)(h)})
#  define _hfconv(h) ((HPyField){(intptr_t)(h)})
#endif

#define HPy_NULL _hconv(0)
#define HPy_IsNull(h) ((h)._i == 0)
#define HPyField_NULL _hfconv(0)
#define HPyField_IsNull(f) ((f)._i == 0)

static inline HPy HPy_FromVoidP(void *p) { return _hconv(p); }
static inline void *HPy_AsVoidP(HPy h) { return (void *)h._i; }

typedef struct _HPyContext_s HPyContext;

#ifdef HPY_ABI_CPYTHON
typedef Py_ssize_t HPy_ssize_t;
typedef Py_hash_t HPy_hash_t;
typedef Py_UCS4 HPy_UCS4;
#  define HPY_SSIZE_T_MAX PY_SSIZE_T_MAX
#  define HPY_SSIZE_T_MIN PY_SSIZE_T_MIN
#else
typedef intptr_t HPy_ssize_t;
typedef intptr_t HPy_hash_t;
typedef uint32_t HPy_UCS4;
#  define HPY_SSIZE_T_MAX INTPTR_MAX
#  define HPY_SSIZE_T_MIN (-HPY_SSIZE_T_MAX - 1)
#endif

/* ---- the rest of the API -------------------------------------------- */

#include "hpy/cpy_types.h"
#include "hpy/autogen_enums.h"
#include "hpy/hpyfunc.h"
#include "hpy/hpydef.h"
#include "hpy/hpytype.h"
#include "hpy/hpymodule.h"
#include "hpy/autogen_ctx.h"

#ifdef HPY_ABI_CPYTHON
#  include "hpy/cpython/hpy_cpython.h"
#  include "hpy/runtime/autogen_ctx_funcs.h"
#  include "hpy/cpython/autogen_api_impl.h"
#else
#  include "hpy/universal/autogen_api_impl.h"
#endif

#include "hpy/inline_helpers.h"
#include "hpy/macros.h"
#include "hpy/runtime/argparse.h"
#include "hpy/runtime/buildvalue.h"
#include "hpy/runtime/format.h"
#include "hpy/runtime/helpers.h"
#include "hpy/runtime/structseq.h"

#ifdef __cplusplus
}
#endif
#endif /* HPy_H */
