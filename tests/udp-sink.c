/* A DNS server that never answers (tests/ssh-local.sh): binds a UDP
 * address, prints "ready", and reads and drops every datagram until it
 * is killed or ARGV[3] seconds pass. It makes a name lookup slow without
 * any traffic leaving loopback. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char buf[1500];
	int fd;
	time_t end;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: udp-sink IPV4 PORT SECONDS\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	end = time(NULL) + atoi(argv[3]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("udp-sink: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 500) > 0 && recv(fd, buf, sizeof buf, 0) < 0)
			break;
	}
	close(fd);
	return 0;
}
