/* list.h - predictd's one intrusive list: circular, doubly linked, in the style of libuv's
 * uv__queue. The owner embeds a pd_list_t node in its own struct and gets back to the struct
 * with pd_list_entry (container_of); a list is a pd_list_t head that is never an element.
 *
 * Invariants: an initialized head or a node outside any list links to itself (next == prev
 * == itself), so pd_list_linked() tells whether a node is in a list and pd_list_remove() of
 * a removed node is harmless; every operation is O(1) except the foreach walks. The list
 * never owns, allocates or frees anything: a node's memory belongs to the struct it is
 * embedded in, which must stay alive and unmoved while the node is linked. Not thread-safe:
 * the owner of the list serializes every access (e.g. with the mutex that guards it). */
#ifndef PD_UTIL_LIST_H
#define PD_UTIL_LIST_H

#include <stddef.h>

#include "common.h"

typedef struct pd_list_s {
    struct pd_list_s *next, *prev;
} pd_list_t;

/* The struct of type `type` whose member `field` (a pd_list_t) is at `node`. */
#define pd_list_entry(node, type, field) PD_CONTAINER_OF(node, type, field)

/* Walks every node of the list at `head`, first to last; `node` (a pd_list_t *) names the
 * current one. The body must not remove `node`: use pd_list_foreach_safe for that. */
#define pd_list_foreach(node, head) \
    for ((node) = (head)->next; (node) != (head); (node) = (node)->next)

/* Like pd_list_foreach, but `tmp` (a pd_list_t *) keeps the successor, so the body may
 * remove (or move elsewhere) `node`; it must not remove the successor. */
#define pd_list_foreach_safe(node, tmp, head) \
    for ((node) = (head)->next, (tmp) = (node)->next; (node) != (head); \
         (node) = (tmp), (tmp) = (node)->next)

/* Makes `h` an empty list (or `h` an unlinked node). `h` is the caller's storage. */
static inline void pd_list_init(pd_list_t *h)
{
    h->next = h;
    h->prev = h;
}

/* 1 when the list at `h` has no element. */
static inline int pd_list_empty(const pd_list_t *h)
{
    return h->next == h;
}

/* 1 while node `n` is in some list (it was inserted and not removed since). */
static inline int pd_list_linked(const pd_list_t *n)
{
    return n->next != n;
}

/* The first node of the list at `h`, or `h` itself when the list is empty. The node
 * stays in the list (and owned by its struct). */
static inline pd_list_t *pd_list_head(const pd_list_t *h)
{
    return h->next;
}

/* The last node of the list at `h`, or `h` itself when the list is empty. */
static inline pd_list_t *pd_list_tail(const pd_list_t *h)
{
    return h->prev;
}

/* The node after `n` (the head when `n` is the last one). */
static inline pd_list_t *pd_list_next(const pd_list_t *n)
{
    return n->next;
}

/* Appends node `n` (not in any list) at the end of the list at `h`. The list keeps a
 * pointer to `n` until pd_list_remove(n). */
static inline void pd_list_insert_tail(pd_list_t *h, pd_list_t *n)
{
    n->next = h;
    n->prev = h->prev;
    n->prev->next = n;
    h->prev = n;
}

/* Prepends node `n` (not in any list) at the front of the list at `h` (a LIFO push). */
static inline void pd_list_insert_head(pd_list_t *h, pd_list_t *n)
{
    n->next = h->next;
    n->prev = h;
    n->next->prev = n;
    h->next = n;
}

/* Unlinks node `n` from whatever list holds it (the head is not needed) and leaves it
 * unlinked (self-linked). Removing an unlinked node does nothing. */
static inline void pd_list_remove(pd_list_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n;
    n->prev = n;
}

/* Moves every node of the list at `from` to the end of the list at `to`, in order; `from`
 * is left empty. Both heads are the caller's. */
static inline void pd_list_concat(pd_list_t *to, pd_list_t *from)
{
    if (pd_list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    pd_list_init(from);
}

/* Moves every node of `from` into `to` (whose previous contents are forgotten, so `to`
 * should be empty or uninitialized); `from` is left empty. */
static inline void pd_list_move(pd_list_t *from, pd_list_t *to)
{
    pd_list_init(to);
    pd_list_concat(to, from);
}

#endif
