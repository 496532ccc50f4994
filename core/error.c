/* error.c — the error table: names and descriptions from UNIWS_ERRNO_MAP. */
#include "uniws/uniws.h"

const char *uniws_strerror(int err)
{
    switch (err) {
    case UNIWS_OK:
        return "success";
#define UNIWS__ERR_DESC(name, val, desc)                                                           \
    case UNIWS_E##name:                                                                            \
        return desc;
        UNIWS_ERRNO_MAP(UNIWS__ERR_DESC)
#undef UNIWS__ERR_DESC
    default:
        return "unknown error";
    }
}

const char *uniws_err_name(int err)
{
    switch (err) {
    case UNIWS_OK:
        return "UNIWS_OK";
#define UNIWS__ERR_NAME(name, val, desc)                                                           \
    case UNIWS_E##name:                                                                            \
        return "UNIWS_E" #name;
        UNIWS_ERRNO_MAP(UNIWS__ERR_NAME)
#undef UNIWS__ERR_NAME
    default:
        return "UNIWS_EUNKNOWN";
    }
}
