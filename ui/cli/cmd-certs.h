/* `etcdwiz certs` on the hosts (cmd-certs-fleet.c): check-expiration
 * --hosts, rotate and rotate-ca, beside the store-only commands of
 * cmd-certs.c. Only ui/cli includes this. */
#ifndef WIZ_CMD_CERTS_H
#define WIZ_CMD_CERTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* A table by display width: cells[row * n_cols + col]; a row whose second
 * cell is NULL prints its first cell alone. */
void certs_print_table(char *const *cells, size_t n_rows, size_t n_cols);

/* Loads file into c, printing every problem; false when it is invalid. */
struct cluster;
bool certs_load_cluster(const char *file, struct cluster *c);

/* check-expiration --hosts: exit 1 when anything is expired, missing or
 * within warn_s seconds of expiring. */
int certs_check_hosts(const char *file, uint64_t warn_s, bool accept_new);
int certs_rotate_exec(int argc, char **argv);
int certs_rotate_ca_exec(int argc, char **argv);

#endif
