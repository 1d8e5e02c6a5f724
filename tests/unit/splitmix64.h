/*
 * tests/unit/splitmix64.h — the seedable pseudo-random generator of the
 * randomized unit tests (test_legal.c, test_accounts.c): splitmix64
 * (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
 * OOPSLA 2014), so that a failure reproduces from its seed.
 */
#ifndef KOPRO_TEST_SPLITMIX64_H
#define KOPRO_TEST_SPLITMIX64_H

#include <stdint.h>

static uint64_t rng_state; /* the seed: set it before the first rnd() */

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
