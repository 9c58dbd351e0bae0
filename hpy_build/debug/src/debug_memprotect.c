/* The const char * of HPyUnicode_AsUTF8AndSize / HPyBytes_AsString in debug
 * mode: a copy in pages of its own, read-only while its handle is open
 * (a write faults) and unreadable once it is closed (a read faults). A fault
 * there is explained before the process dies. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "debug_internal.h"

static size_t page_size(void)
{
    static size_t size;
    if (size == 0)
        size = (size_t)sysconf(_SC_PAGESIZE);
    return size;
}

void *_hpy_debug_protect_copy(const char *data, size_t size, size_t *mapped)
{
    size_t n = (size + page_size() - 1) / page_size() * page_size();
    char *mem = (char *)mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return NULL;
    memcpy(mem, data, size);
    mprotect(mem, n, PROT_READ);
    *mapped = n;
    return mem;
}

void _hpy_debug_mem_closed(void *mem, size_t mapped) { mprotect(mem, mapped, PROT_NONE); }
void _hpy_debug_mem_free(void *mem, size_t mapped) { munmap(mem, mapped); }

static struct sigaction previous_segv, previous_bus;

static DebugHandle *owner_of(DHList *l, const char *addr)
{
    DebugHandle *dh;
    for (dh = l->head.next; dh != &l->head; dh = dh->next)
        if (dh->mem != NULL && addr >= (char *)dh->mem && addr < (char *)dh->mem + dh->mem_size)
            return dh;
    return NULL;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    DebugHandle *dh = owner_of(&_hpy_debug_info.closed, (const char *)si->si_addr);
    char desc[1200];
    (void)uc;
    if (dh == NULL)
        dh = owner_of(&_hpy_debug_info.open, (const char *)si->si_addr);
    if (dh != NULL) {
        _hpy_debug_describe_handle(dh, desc, sizeof(desc));
        if (dh->is_closed)
            fprintf(stderr, "Fatal HPy debug error: reading the memory returned by %s after its "
                    "handle was closed: %s. The const char * lives only as long as the handle; "
                    "copy the bytes before HPy_Close\n", dh->mem_what, desc);
        else
            fprintf(stderr, "Fatal HPy debug error: writing into the read-only memory returned "
                    "by %s: %s. The const char * is read-only; copy it to change it\n",
                    dh->mem_what, desc);
        fflush(stderr);
    }
    /* the previous handler (faulthandler, or the default) gets the fault */
    sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, NULL);
}

void _hpy_debug_install_fault_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}
