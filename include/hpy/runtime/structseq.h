/* Struct sequences (named tuples made from C), compiled into each extension;
 * included by hpy.h. Every field given is in the sequence: len(instance) is
 * the number of fields. */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_RUNTIME_STRUCTSEQ_H
#define HPY_RUNTIME_STRUCTSEQ_H

typedef struct {
    const char *name;   /* UTF-8; NULL ends the list; HPyStructSequence_UnnamedField: no name */
    const char *doc;    /* UTF-8, may be NULL */
} HPyStructSequence_Field;

typedef struct {
    const char *name;                   /* "module.TypeName", UTF-8, required */
    const char *doc;                    /* may be NULL */
    HPyStructSequence_Field *fields;    /* ends with a field whose name is NULL */
} HPyStructSequence_Desc;

/* Compare field names to it by address: it marks an index-only field. */
extern _HPy_HIDDEN const char *const HPyStructSequence_UnnamedField;

HPyAPI_HELPER HPy
HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc);

/* An instance of `type` (made by HPyStructSequence_NewType) holding the
 * nargs items of args; nargs must be the type's number of fields. */
HPyAPI_HELPER HPy
HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args);

#endif /* HPY_RUNTIME_STRUCTSEQ_H */
