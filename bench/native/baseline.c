/*
 * The bare native baseline of the benchmark: a netlink socket, sendto,
 * recv and a walk over the message headers, nothing more. Each run does
 * one piece of work inside the network namespace it is started in and
 * prints one JSON line with what it measured. Like the Node.js tools it
 * does the work untimed first (links 20 times, routes 3 times, round
 * trips three times over), so no tool is timed cold.
 *
 *   baseline routes            dump IPv4 routes
 *   baseline links             dump links
 *   baseline execute COUNT     COUNT sequential RTM_GETLINK for index 1
 *   baseline listen EXPECTED   count RTM_NEWROUTE notifications of the
 *                              IPv4 route group until EXPECTED arrived,
 *                              or a second passed without any after a
 *                              line came on standard input; through
 *                              two bursts, as bench/work.ts does
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DUMP_BUFFER (1 << 20)
#define DUMP_WARM_UPS 20
/* Untimed route dumps before the timed one, as bench/worker.ts does. */
#define ROUTE_WARM_UPS 3
#define EXECUTE_WARM_UPS 3

static char buffer[DUMP_BUFFER];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
	       usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static void fail(const char *what)
{
	fprintf(stderr, "baseline: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_route(unsigned int groups)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		fail("socket");
	local.nl_groups = groups;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		fail("bind");
	return fd;
}

static void send_request(int fd, unsigned short type, unsigned short flags,
			 unsigned int sequence, const void *body, size_t len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char request[NLMSG_SPACE(64)];
	struct nlmsghdr *h = (struct nlmsghdr *)request;

	memset(request, 0, sizeof(request));
	h->nlmsg_len = NLMSG_LENGTH(len);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = sequence;
	memcpy(NLMSG_DATA(h), body, len);
	if (sendto(fd, request, h->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		fail("sendto");
}

/* Reads a dump to its DONE; returns its messages and adds their bytes. */
static long read_dump(int fd, unsigned int sequence, long *bytes)
{
	long messages = 0;

	for (;;) {
		ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buffer;

		if (n < 0)
			fail("recv");
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != sequence)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return messages;
			if (h->nlmsg_type == NLMSG_ERROR) {
				errno = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
				fail("dump");
			}
			messages++;
			*bytes += h->nlmsg_len;
		}
	}
}

static int dump(unsigned short type, const void *body, size_t len,
		int warm_ups)
{
	int fd = open_route(0);
	long bytes = 0;
	double start;
	long messages;

	for (int i = 0; i < warm_ups; i++) {
		send_request(fd, type, NLM_F_DUMP, 100 + i, body, len);
		read_dump(fd, 100 + i, &bytes);
	}
	bytes = 0;
	start = now();
	send_request(fd, type, NLM_F_DUMP, 1, body, len);
	messages = read_dump(fd, 1, &bytes);
	printf("{\"messages\":%ld,\"bytes\":%ld,\"seconds\":%.9f}\n", messages,
	       bytes, now() - start);
	return 0;
}

static void round_trips(int fd, long first, long count)
{
	struct ifinfomsg link = { .ifi_family = AF_UNSPEC, .ifi_index = 1 };

	for (long i = first; i < first + count; i++) {
		struct nlmsghdr *h = (struct nlmsghdr *)buffer;
		ssize_t n;

		send_request(fd, RTM_GETLINK, 0, i, &link, sizeof(link));
		n = recv(fd, buffer, sizeof(buffer), 0);
		if (n < 0)
			fail("recv");
		if (!NLMSG_OK(h, n) || h->nlmsg_seq != (unsigned int)i ||
		    h->nlmsg_type != RTM_NEWLINK) {
			errno = EPROTO;
			fail("execute reply");
		}
	}
}

static int execute(long count)
{
	int fd = open_route(0);
	double start;

	round_trips(fd, 1, EXECUTE_WARM_UPS * count);
	start = now();
	round_trips(fd, EXECUTE_WARM_UPS * count + 1, count);
	printf("{\"messages\":%ld,\"seconds\":%.9f}\n", count, now() - start);
	return 0;
}

/* What listening through one burst measured. */
struct listened {
	long events, overruns;
	double cpu;
};

/* Reads standard input up to the end of a line, or to its end. */
static void read_line(void)
{
	char c;

	while (read(0, &c, 1) == 1 && c != '\n')
		;
}

/* Listens on `fd` through one burst. */
static void listen_once(int fd, long expected, struct listened *out)
{
	struct pollfd watch[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = 0, .events = POLLIN },
	};
	long events = 0, overruns = 0;
	double cpu = 0;
	int sent = 0, started = 0;

	printf("ready\n");
	fflush(stdout);
	while (events < expected) {
		int ready = poll(watch, sent ? 1 : 2, sent ? 1000 : 60000);

		if (ready == 0)
			break;
		if (!sent && watch[1].revents) {
			read_line();
			sent = 1;
			continue;
		}
		for (;;) {
			ssize_t n = recv(fd, buffer, sizeof(buffer),
					 MSG_DONTWAIT);
			struct nlmsghdr *h = (struct nlmsghdr *)buffer;

			if (n < 0 && errno == ENOBUFS) {
				overruns++;
				continue;
			}
			if (n < 0)
				break;
			if (!started) {
				started = 1;
				cpu = cpu_seconds();
			}
			for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n))
				if (h->nlmsg_type == RTM_NEWROUTE)
					events++;
		}
	}
	out->events = events;
	out->overruns = overruns;
	out->cpu = started ? cpu_seconds() - cpu : 0;
}

/* Listens through two bursts on one socket, as bench/work.ts does. */
static int listen_routes(long expected)
{
	int fd = open_route(RTMGRP_IPV4_ROUTE);
	struct listened first, second;

	listen_once(fd, expected, &first);
	listen_once(fd, expected, &second);
	printf("{\"events\":%ld,\"overruns\":%ld,\"cpuSeconds\":%.9f,"
	       "\"first\":{\"events\":%ld,\"overruns\":%ld,"
	       "\"cpuSeconds\":%.9f}}\n",
	       second.events, second.overruns, second.cpu, first.events,
	       first.overruns, first.cpu);
	return 0;
}

int main(int argc, char **argv)
{
	struct rtmsg route = { .rtm_family = AF_INET };
	struct ifinfomsg link = { .ifi_family = AF_UNSPEC };
	const char *work = argc > 1 ? argv[1] : "";
	long count = argc > 2 ? atol(argv[2]) : 0;

	if (strcmp(work, "routes") == 0)
		return dump(RTM_GETROUTE, &route, sizeof(route), ROUTE_WARM_UPS);
	if (strcmp(work, "links") == 0)
		return dump(RTM_GETLINK, &link, sizeof(link), DUMP_WARM_UPS);
	if (strcmp(work, "execute") == 0 && count > 0)
		return execute(count);
	if (strcmp(work, "listen") == 0 && count > 0)
		return listen_routes(count);
	fprintf(stderr, "usage: baseline routes|links|execute N|listen N\n");
	return 2;
}
