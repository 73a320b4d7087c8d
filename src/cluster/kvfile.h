/* Small YAML files of one flat mapping of strings (the wizard's session
 * file: which screen, which cluster file, the language): written
 * atomically with mode 0600 in a directory made 0700, read back leniently
 * (a missing or damaged file is an empty one: a session is only a
 * convenience). */
#ifndef WIZ_KVFILE_H
#define WIZ_KVFILE_H

#include "base/error.h"
#include "cluster/cluster.h"

/* Keys in kv's order; values double-quoted. */
enum wiz_err kvfile_save(const char *path, const struct kvlist *kv, struct wiz_error *err);
/* Adds the file's string pairs to kv; anything else in it is ignored. */
void kvfile_load(const char *path, struct kvlist *kv);
/* $XDG_STATE_HOME/etcdwiz/NAME, or NAME in etcdwiz's data directory.
 * Caller frees. */
char *kvfile_state_path(const char *name);

#endif
