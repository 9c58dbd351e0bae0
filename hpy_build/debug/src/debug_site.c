/* Where a handle was made: a return address, resolved to "file.c:line in
 * function" only when a report is printed (dladdr, then addr2line over the
 * binary's debug information; without it, symbol+offset). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "debug_internal.h"

/* A frame in an HPy header (an inline API function) is not the author's line. */
static int is_hpy_header(const char *file)
{
    size_t n = strlen(file);
    return (n > 2 && strcmp(file + n - 2, ".h") == 0 &&
            (strstr(file, "/hpy/") != NULL || strstr(file, "hpy.h") != NULL));
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* addr2line -f -i prints function/file:line pairs, innermost inline frame first. */
static int run_addr2line(const char *binary, unsigned long offset, char *buf, size_t size)
{
    char command[4600], func[1024], line[4096], best[5200] = "";
    FILE *p;
    int found = 0;
    snprintf(command, sizeof(command), "addr2line -f -i -C -e '%s' 0x%lx 2>/dev/null", binary,
             offset);
    if (strchr(binary, '\'') != NULL || (p = popen(command, "r")) == NULL)
        return 0;
    while (fgets(func, sizeof(func), p) != NULL && fgets(line, sizeof(line), p) != NULL) {
        char *colon, *disc;
        func[strcspn(func, "\n")] = '\0';
        line[strcspn(line, "\n")] = '\0';
        if ((disc = strstr(line, " (discriminator")) != NULL)
            *disc = '\0';
        colon = strrchr(line, ':');
        if (line[0] == '?' || colon == NULL || strcmp(colon, ":0") == 0 || colon[1] == '?')
            continue;
        *colon = '\0';
        if (found && is_hpy_header(line))
            continue;
        snprintf(best, sizeof(best), "%s:%s in %s", base_name(line), colon + 1, func);
        found = 1;
        if (!is_hpy_header(line))
            break;
    }
    pclose(p);
    if (found)
        snprintf(buf, size, "%s", best);
    return found;
}

#define CACHE_SIZE 64
static struct { const void *address; char text[512]; } cache[CACHE_SIZE];
static unsigned cache_next;

size_t hpy_debug_describe_site(const void *address, char *buf, size_t size)
{
    Dl_info dl;
    unsigned i;
    if (size == 0)
        return 0;
    for (i = 0; i < CACHE_SIZE; i++)
        if (cache[i].address == address && address != NULL)
            return (size_t)snprintf(buf, size, "%s", cache[i].text);
    if (address == NULL || !dladdr(address, &dl) || dl.dli_fname == NULL) {
        snprintf(buf, size, "%p", address);
    }
    else {
        /* a return address: the call is the byte before it */
        unsigned long offset = (unsigned long)((const char *)address - 1 - (const char *)dl.dli_fbase);
        if (!run_addr2line(dl.dli_fname, offset, buf, size)) {
            if (dl.dli_sname != NULL)
                snprintf(buf, size, "%s+0x%lx in %s", dl.dli_sname,
                         (unsigned long)((const char *)address - (const char *)dl.dli_saddr),
                         base_name(dl.dli_fname));
            else
                snprintf(buf, size, "%s+0x%lx", base_name(dl.dli_fname), offset + 1);
        }
    }
    cache[cache_next].address = address;
    snprintf(cache[cache_next].text, sizeof(cache[cache_next].text), "%s", buf);
    cache_next = (cache_next + 1) % CACHE_SIZE;
    return strlen(buf);
}
