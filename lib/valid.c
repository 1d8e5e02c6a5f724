/*
 * lib/valid.c — syntax checks of uuids and calendar dates (kopro/valid.h).
 */
#include "kopro/valid.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int kopro_valid_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

int kopro_valid_date(const char *s)
{
    int y, mo, d, n = 0;
    return s != NULL && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 &&
           n == 10 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

int kopro_valid_fingerprint(const char *s)
{
    size_t i;
    if (s == NULL)
        return 0;
    for (i = 0; s[i] != '\0'; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return i == 40;
}
