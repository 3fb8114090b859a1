/* error.c - scr_strerror(): text for the codes of error.h. */
#include "common/error.h"

const char *scr_strerror(int err)
{
    switch (err) {
#define SCR_ERR_CASE_(name, value, text) \
    case value: return text;
        SCR_ERRNO_MAP(SCR_ERR_CASE_)
#undef SCR_ERR_CASE_
    default:
        return "unknown error";
    }
}
