/* suggest.c - nearest-name suggestions for typos (see suggest.h).  Names are short (options,
 * setting keys, subcommands), so a fixed table of 65 x 65 cells does and nothing is
 * allocated. */
#include "common/suggest.h"

#include <string.h>

#define NAME_MAX_LEN 64
#define SUGGEST_MAX_EDITS 2

static int same(char x, char y)
{
    if (x == '_')
        x = '-';
    if (y == '_')
        y = '-';
    return x == y;
}

static int min3(int a, int b, int c)
{
    int m = a < b ? a : b;
    return m < c ? m : c;
}

int scr_suggest_distance(const char *a, const char *b, int cap)
{
    static const int far = 1 << 20;
    int d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1];
    size_t la = strlen(a), lb = strlen(b);

    if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
        return cap + 1;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
            int v = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]) &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v < far ? v : far;
        }
    }
    return d[la][lb] > cap ? cap + 1 : d[la][lb];
}

const char *scr_suggest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    int best_d = SUGGEST_MAX_EDITS + 1;
    int len = (int)strlen(word);

    for (size_t i = 0; i < n; i++) {
        int dist = scr_suggest_distance(word, names[i], SUGGEST_MAX_EDITS);
        if (dist < best_d && dist < len) {
            best = names[i];
            best_d = dist;
        }
    }
    return best;
}
