/* What `plan` and `apply` print of a run's plans, with hosts whose lines
 * are the same listed once: "etcd-1, etcd-2, etcd-3 certificates: install
 * /etc/kubernetes/pki/etcd/ca.crt". Hosts run ahead of each other, so the
 * lines are gathered and printed step by step at the end; a host's lines
 * that differ from the others' (a manifest with its own address) are shown
 * under its own name, in its order. Pure: no I/O but the FILE it prints to. */
#ifndef WIZ_PLAN_LISTING_H
#define WIZ_PLAN_LISTING_H

#include <stdbool.h>
#include <stdio.h>

#include "install/plan.h"

struct plan_listing;

struct plan_listing *plan_listing_new(void);
void plan_listing_free(struct plan_listing *l);

/* The hosts in the cluster file's order, for each group's names (called
 * once per host before the first add; a host not given goes last). */
void plan_listing_order(struct plan_listing *l, const char *host);
/* A step's heading, once, as the first host gets to it (over any of its
 * lines already there: a failed host's skipped steps). */
void plan_listing_step(struct plan_listing *l, const char *step, const char *heading);
/* One unit of a host's output for a step: a line, then detail lines that
 * belong to it (each starting with spaces; NULL: none). Units read the same
 * when line and detail are the same. */
void plan_listing_add(struct plan_listing *l, const char *host, const char *step,
		      const char *line, const char *detail);
/* A host's plan for a step: its notes, findings and actions, each action
 * with its file diff or command when details is true. */
void plan_listing_plan(struct plan_listing *l, const char *host, const char *step,
		       const struct plan *p, bool details);
/* Text that belongs to no host (the cluster's section), kept in its place. */
void plan_listing_text(struct plan_listing *l, const char *text);
/* Everything gathered, grouped, then forgotten. */
void plan_listing_print(struct plan_listing *l, FILE *out);

/* A plan's units as plan_listing_plan adds them, called back one by one
 * (plan_print prints them under one host). detail may be NULL. */
void plan_units(const struct plan *p, bool details,
		void (*unit)(const char *line, const char *detail, void *ud), void *ud);

#endif
