/* applock.c - the app lock (applock.h): a process-wide mutex and a per-thread depth, so
 * that nested enters on one thread lock once. Invariant: a thread's depth > 0 iff it holds
 * the mutex. */
#include "util/applock.h"

#include <pthread.h>

atomic_int pd__applock_on;
static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local unsigned s_depth;

void pd_applock_enable(void)
{
    atomic_store(&pd__applock_on, 1);
}

void pd__applock_enter(void)
{
    if (s_depth++ == 0)
        pthread_mutex_lock(&s_mu);
}

void pd__applock_leave(void)
{
    if (--s_depth == 0)
        pthread_mutex_unlock(&s_mu);
}
